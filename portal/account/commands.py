"""`flask portal …` commands of the account domain."""
from __future__ import annotations
