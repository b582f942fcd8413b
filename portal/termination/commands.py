"""`flask portal …` commands of the termination domain."""
from __future__ import annotations
