"""Notices shown on every page to the signed-in person (e.g. an unacknowledged policy version),
and the per-request facts they and the navigation are built from.

Every page shows the notices and the navigation, so what they need is read in ONE statement per
request (issue #15, item 3: session, identity, customer and notices in at most two): each domain
registers a *fact source* giving labelled scalar SQL expressions (counts, EXISTS, the newest row's
columns) about `current_user`, `request_facts()` selects all of them together once per request, and
each *notice provider* turns those facts into notices without touching the database.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import g
from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db


@dataclass(frozen=True)
class Notice:
    message: str
    link_url: str | None = None
    link_label: str | None = None
    level: str = "info"  # info | warning


# a fact source: identity → {label: scalar SQL expression}; empty when nothing applies to them
FactSource = Callable[[Any], dict[str, Any]]
_fact_sources: list[FactSource] = []
_providers: list[Callable[[Mapping[str, Any]], list[Notice]]] = []


def fact_source(fn: FactSource) -> FactSource:
    """Register `fn` (decorator): it names scalar expressions (e.g. `select(...).scalar_subquery()`,
    `exists(...)`) whose values `request_facts()` reads for the signed-in identity. Labels must be
    unique across domains; prefix them with the domain's name."""
    if fn not in _fact_sources:
        _fact_sources.append(fn)
    return fn


def request_facts() -> Mapping[str, Any]:
    """Every registered fact about the signed-in person, read in one SELECT at most once per
    request; {} for someone signed out."""
    if not current_user.is_authenticated:
        return {}
    if "request_facts" not in g:
        columns: dict[str, Any] = {}
        for source in _fact_sources:
            columns.update(source(current_user))
        g.request_facts = (dict(db.session.execute(
            select(*[expression.label(label) for label, expression in columns.items()])).one()._mapping)
            if columns else {})
    return g.request_facts


def notice_provider(fn: Callable[[Mapping[str, Any]], list[Notice]]):
    """Register `fn` (decorator): facts → the notices it shows; it runs once per page for a
    signed-in person and must read only `request_facts()`, never the database."""
    if fn not in _providers:
        _providers.append(fn)
    return fn


def current_notices() -> list[Notice]:
    if not current_user.is_authenticated:
        return []
    if "page_notices" not in g:
        facts = request_facts()
        g.page_notices = [n for provider in _providers for n in provider(facts)]
    return g.page_notices


def init_app(app) -> None:
    app.context_processor(lambda: {"page_notices": current_notices})
