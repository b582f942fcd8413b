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
from types import SimpleNamespace
from typing import Any

from flask import g
from flask_login import current_user
from sqlalchemy import Date, Integer, bindparam, select

from portal.db_types import UTCDateTime, local_today, utcnow
from portal.extensions import db


@dataclass(frozen=True)
class Notice:
    message: str
    link_url: str | None = None
    link_label: str | None = None
    level: str = "info"  # info | warning


# what a fact source may compare with: bound per request, so each source's expressions are built
# once per process and the facts statement is compiled once (building them cost more CPU than
# running them)
PARAMS = SimpleNamespace(
    identity_id=bindparam("fact_identity_id", type_=Integer()),
    customer_id=bindparam("fact_customer_id", type_=Integer()),
    now=bindparam("fact_now", type_=UTCDateTime()),
    today=bindparam("fact_today", type_=Date()),
)
# a fact source: PARAMS → {label: scalar SQL expression}
FactSource = Callable[[SimpleNamespace], dict[str, Any]]
_fact_sources: list[tuple[FactSource, bool]] = []
_statements: dict[bool, Any] = {}
_providers: list[Callable[[Mapping[str, Any]], list[Notice]]] = []


def fact_source(fn: FactSource | None = None, *, customers_only: bool = False):
    """Register `fn` (decorator, optionally `customers_only=True`): given PARAMS (bound parameters
    `identity_id`, `customer_id`, `now`, `today`), it names scalar expressions (e.g.
    `select(...).scalar_subquery()`, `exists(...)`) whose values `request_facts()` reads for the
    signed-in identity. Labels must be unique across domains; prefix them with the domain's name."""
    def register(source: FactSource) -> FactSource:
        if all(source is not known for known, _ in _fact_sources):
            _fact_sources.append((source, customers_only))
            _statements.clear()
        return source

    return register(fn) if fn is not None else register


def _statement(customer: bool):
    if customer not in _statements:
        columns: dict[str, Any] = {}
        for source, customers_only in _fact_sources:
            if customer or not customers_only:
                columns.update(source(PARAMS))
        _statements[customer] = (select(*[expression.label(label) for label, expression in columns.items()])
                                 if columns else None)
    return _statements[customer]


def request_facts() -> Mapping[str, Any]:
    """Every registered fact about the signed-in person, read in one SELECT at most once per
    request; {} for someone signed out."""
    if not current_user.is_authenticated:
        return {}
    if "request_facts" not in g:
        statement = _statement(current_user.customer_id is not None)
        # on the session's connection, as Core: the ORM's result set-up is most of what a one-row
        # SELECT of scalars costs, and these are no entities. Flushed first, as the ORM's autoflush
        # would, so a change made earlier in the request is counted (nothing to do when clean)
        db.session.flush()
        g.request_facts = dict(db.session.connection().execute(statement, {
            "fact_identity_id": current_user.id, "fact_customer_id": current_user.customer_id,
            "fact_now": utcnow(), "fact_today": local_today()}).one()._mapping) if statement is not None else {}
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
