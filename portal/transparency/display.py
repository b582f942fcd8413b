"""Registry values in words, in the reader's language (the export keeps the raw values)."""
from __future__ import annotations

from flask_babel import format_decimal

from portal.transparency.registry import Field, Kind, choice_label
from portal.web.i18n import _
from portal.web.phrases import day, moment

_UNITS = ("B", "KB", "MB", "GB", "TB")


def size(value: int) -> str:
    amount, unit = float(value), 0
    while amount >= 1024 and unit < len(_UNITS) - 1:
        amount, unit = amount / 1024, unit + 1
    return f"{value} B" if unit == 0 else f"{format_decimal(amount, '#,##0.#')} {_UNITS[unit]}"


def duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return " ".join(p for p in parts if p) or "0 s"


def value(field: Field, raw) -> str:
    """How the data page and the printable export show one value."""
    if raw is None or raw == "":
        return _("not given")
    kind = field.kind
    if kind == Kind.CODE:
        return str(choice_label(field, raw))
    if kind in (Kind.CODES, Kind.LIST):
        return ", ".join(str(choice_label(field, item)) for item in raw) or _("none")
    if kind == Kind.BOOL:
        return _("yes") if raw else _("no")
    if kind == Kind.DATE:
        return day(raw)
    if kind == Kind.DATETIME:
        return moment(raw)
    if kind == Kind.BYTES:
        return size(raw)
    if kind == Kind.DURATION:
        return duration(raw)
    if kind == Kind.NUMBER:
        return format_decimal(raw)
    if kind == Kind.PROVIDER:
        from portal.auth.oidc import provider_label

        return provider_label(raw)
    if kind == Kind.JSON:
        return "; ".join(f"{key}: {item}" for key, item in raw.items()) if isinstance(raw, dict) else str(raw)
    return str(raw)


def masked(field: str, raw: str | None) -> str:
    """A customer's value as staff see it before a deliberate, logged reveal."""
    from portal.web.masking import mask_email, mask_name, mask_phone

    if not raw:
        return ""
    if field == "email":
        return mask_email(raw)
    if field == "phone":
        return mask_phone(raw)
    if field == "tax_id":
        return "*" * max(len(raw) - 3, 3) + raw[-3:]
    return mask_name(raw)
