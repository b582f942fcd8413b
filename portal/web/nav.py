"""The main navigation, built from entries each domain registers for the people who may use them.

Hiding a link is only courtesy: every view still checks access itself.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_login import current_user

from portal.web.links import page_url


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy_gettext string
    audience: str  # "signed_in" | "customer" | "delegate" | "customer_or_delegate" | "moderator" | "privacy_officer" | "staff"
    order: int = 100


_items: list[NavItem] = []


def nav_item(endpoint: str, label, audience: str, order: int = 100) -> None:
    """Register a navigation entry (called at import time by a domain's routes module)."""
    if not any(i.endpoint == endpoint for i in _items):
        _items.append(NavItem(endpoint, label, audience, order))


def _is_delegate() -> bool:
    # read with the other page facts in one statement (portal/web/notices.py; people registers it)
    from portal.web.notices import request_facts

    return bool(request_facts().get("people_is_delegate"))


AUDIENCES: dict[str, Callable[[], bool]] = {
    "signed_in": lambda: True,
    "customer": lambda: current_user.customer_id is not None,
    "delegate": _is_delegate,
    "customer_or_delegate": lambda: current_user.customer_id is not None or _is_delegate(),
    "moderator": lambda: current_user.has_role("moderator"),
    "privacy_officer": lambda: current_user.has_role("privacy_officer"),
    "staff": lambda: current_user.has_role("moderator") or current_user.has_role("privacy_officer"),
}


def visible_items() -> list[tuple[str, object, str]]:
    """(url, label, endpoint) for the signed-in person, in order."""
    if not current_user.is_authenticated:
        return []
    allowed: dict[str, bool] = {}  # each audience is asked once, not once per entry
    items = []
    for item in sorted(_items, key=lambda i: i.order):
        if item.audience not in allowed:
            allowed[item.audience] = AUDIENCES[item.audience]()
        if allowed[item.audience]:
            items.append((page_url(item.endpoint), item.label, item.endpoint))
    return items


def init_app(app) -> None:
    app.context_processor(lambda: {"nav_items": visible_items})
