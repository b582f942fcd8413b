"""pydantic's errors as the import's error lines: `customers[3].email: not an e-mail address`.

The wording is the importer's own (the CRM team's scripts and our tests read it), so each
pydantic error type maps to the sentence the hand-written checks printed before.
"""
from __future__ import annotations

import re

from pydantic import ValidationError

from portal.crm_import.values import PATTERN_MESSAGES

_QUOTED = re.compile(r"'([^']*)'")
# a null where a value belongs is as good as a missing field
_TYPE_ERRORS = {"string_type", "literal_error", "bool_type", "int_type", "model_type", "model_attributes_type",
                "dict_type", "list_type", "date_type", "datetime_type"}
_STRING_TYPES = {"string_type", "string_too_short", "string_too_long", "string_pattern_mismatch"}


def path(prefix: str, loc: tuple[str | int, ...]) -> str:
    """`customers[3]` + ('rooms', 0, 'key') → `customers[3].rooms[0].key`."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def message(error: dict) -> str:
    """The sentence for one pydantic error (an item of `ValidationError.errors()`)."""
    kind, value, ctx, loc = error["type"], error.get("input"), error.get("ctx") or {}, error["loc"]
    in_list = bool(loc) and isinstance(loc[-1], int)
    if kind == "missing" or (value is None and kind in _TYPE_ERRORS):
        return "is required"
    if kind == "extra_forbidden":
        return "unknown field"
    if in_list and kind in _STRING_TYPES - {"string_pattern_mismatch"}:
        return "must be a non-empty string"
    if kind == "string_type":
        return "must be a string"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters"
    if kind == "string_pattern_mismatch":
        return PATTERN_MESSAGES.get(ctx["pattern"], f"must match {ctx['pattern']}")
    if kind == "literal_error":
        if not isinstance(value, str):
            return "must be a string"
        return f"must be one of {', '.join(_QUOTED.findall(ctx['expected']))} (not \"{value}\")"
    if kind in ("int_type", "greater_than_equal"):
        return "must be a whole number, 0 or more"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "bool_type":
        return "must be true or false"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a JSON object"
    if kind == "list_type":
        return "must be a list"
    if kind == "too_short" and loc and loc[-1] == "services":
        return "must list at least one service"
    return error["msg"]  # our own PydanticCustomError sentences, and anything unforeseen


def lines(prefix: str, failure: ValidationError) -> list[str]:
    """One `path: sentence` line per problem, in the order of the fields."""
    return [f"{path(prefix, error['loc'])}: {message(error)}"
            for error in failure.errors(include_url=False, include_context=True, include_input=True)]
