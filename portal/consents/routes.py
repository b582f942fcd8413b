"""Routes of the consents domain (none yet)."""
from __future__ import annotations

blueprints: list = []
