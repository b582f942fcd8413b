"""The words for audit event kinds in the customer's activity log, registered by each domain.

Kept below every domain so that consents, people and termination name their kinds without importing
the activity log that reads them (portal.transparency.activity); a kind nobody registered is still
shown, under "Other".
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.web.i18n import _l

GROUPS = {
    "sign_ins": _l("Sign-ins and sessions"),
    "access": _l("Views, downloads and exports"),
    "consents": _l("Consents"),
    "changes": _l("Changes to your data"),
    "disclosures": _l("Disclosures under a legal duty"),
    "other": _l("Other"),
}


@dataclass(frozen=True)
class ActivityKind:
    group: str
    label: object
    # the details a customer may read: (key in the event's data, label, words for its codes: a dict, a
    # function or None)
    details: tuple[tuple[str, object, object], ...] = ()
    # the words for MCX staff (the audit-log reader), where `label` speaks to the customer ("your data")
    staff_label: object = None

    def shown(self, data: dict) -> list[tuple[object, object]]:
        """(label, value) of each detail the event has, codes turned into words."""
        pairs = []
        for key, label, choices in self.details:
            value = data.get(key)
            if value in (None, "", []):
                continue
            items = value if isinstance(value, list) else [value]
            pairs.append((label, ", ".join(str(_words(choices, item)) for item in items)))
        return pairs

    def exported(self, data: dict) -> dict:
        return {key: data[key] for key, _label, _choices in self.details if key in data}


def _words(choices, code):
    if callable(choices):
        return choices(code)
    return choices.get(code, code) if choices else code


_kinds: dict[str, ActivityKind] = {}


def register_kind(kind: str, group: str, label, details=(), *, staff_label=None) -> None:
    """Name an audit event kind for the activity log (`group` is one of GROUPS); `staff_label`,
    in the third person, for the staff audit log when `label` addresses the customer."""
    if group not in GROUPS:
        raise ValueError(f"unknown activity group {group!r}")
    _kinds[kind] = ActivityKind(group, label, tuple(details), staff_label)


def describe(kind: str) -> ActivityKind:
    return _kinds.get(kind) or ActivityKind("other", kind.replace("_", " "))


def kinds_in(group: str) -> list[str]:
    return sorted(kind for kind, entry in _kinds.items() if entry.group == group)


def registered_kinds() -> set[str]:
    return set(_kinds)
