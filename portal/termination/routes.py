"""Routes of the termination domain (none yet)."""
from __future__ import annotations

blueprints: list = []
