"""`flask portal …` commands of the consents domain."""
from __future__ import annotations
