"""A short name for the browser behind a session, from its User-Agent header.

Only a rough guess for the sessions page ("Chrome · Windows"); the full header stays in the
session record and the export.
"""
from __future__ import annotations

import re

# order matters: Edge and Opera also say "Chrome", Chrome also says "Safari"
_BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chromium", r"Chromium/"),
    ("Chrome", r"Chrome/|CriOS/"),
    ("Safari", r"Version/[\d.]+.*Safari/"),
)
_SYSTEMS = (
    ("Android", r"Android"),
    ("iOS", r"iPhone|iPad|iPod"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux|X11"),
)


def describe(user_agent: str | None) -> str:
    """E.g. "Firefox · Linux"; the raw header's start when nothing is recognised."""
    if not user_agent:
        return "?"
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), None)
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or user_agent[:60]
