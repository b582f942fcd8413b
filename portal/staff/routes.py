"""Routes of the staff domain (none yet)."""
from __future__ import annotations

blueprints: list = []
