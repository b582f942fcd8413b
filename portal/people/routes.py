"""Routes of the people domain (none yet)."""
from __future__ import annotations

blueprints: list = []
