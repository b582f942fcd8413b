"""Notices shown on every page to the signed-in person (e.g. an unacknowledged policy version).

A domain registers a function returning the notices for `current_user`; base.html shows them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import g
from flask_login import current_user


@dataclass(frozen=True)
class Notice:
    message: str
    link_url: str | None = None
    link_label: str | None = None
    level: str = "info"  # info | warning


_providers: list[Callable[[], list[Notice]]] = []


def notice_provider(fn: Callable[[], list[Notice]]) -> Callable[[], list[Notice]]:
    """Register `fn` (decorator); it runs once per page for a signed-in person."""
    if fn not in _providers:
        _providers.append(fn)
    return fn


def current_notices() -> list[Notice]:
    if not current_user.is_authenticated:
        return []
    if "page_notices" not in g:
        g.page_notices = [n for provider in _providers for n in provider()]
    return g.page_notices


def init_app(app) -> None:
    app.context_processor(lambda: {"page_notices": current_notices})
