"""Request values no route can use are refused at the door, whatever the route (SPEC P1: every
value from outside is hostile until validated and bounded).

Before this, a NUL reached PostgreSQL (which cannot store it in text) and a number beyond 64 bits
reached SQLite (which cannot bind it): both answered 500. Checking each route's parameters would
miss the next route; these checks hold for every route, as the URL-map test proves:

- path and query: NUL and other control characters (CR/LF too), invalid UTF-8, values over 2,048 characters, integers beyond 64 bits → 400
  (routes read integers with `int64` alone, which takes no other form int() reads: `_`, spaces,
  a `+`, non-ASCII digits);
- `<int:…>` path ids beyond 64 bits match no route → 404;
- headers: control characters or values over 8,190 bytes (gunicorn's own field limit) → 400;
- a query string over 4,094 bytes (gunicorn's request-line limit) or of 100 parameters or more
  → 400, before it is parsed: parsing and checking 10,000 parameters cost ~40 ms of CPU
  (issue #15, item 6: no anonymous request may cost more than 50 ms);
- a form body (application/x-www-form-urlencoded) of MAX_FORM_FIELDS fields or more → 400, before
  it is parsed: werkzeug bounds the parts of a multipart body (MAX_FORM_PARTS, 1,000) but not the
  fields of an urlencoded one, and parsing 2 MB of `a=1&…` (any URL, signed in or not: the NUL
  check reads every POST's form) cost ~450 ms of CPU.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from flask import abort
from flask import request as flask_request
from werkzeug.routing import IntegerConverter

INT64_MAX = 2**63 - 1
MAX_VALUE_CHARS = 2048
MAX_HEADER_CHARS = 8190
MAX_QUERY_BYTES = 4094
MAX_QUERY_PARAMS = 100
# the largest form holds 500 recording ids and a token (recordings' "delete now")
MAX_FORM_FIELDS = 1000
# C0 controls and DEL; U+FFFD is what invalid UTF-8 in the path decodes to
_UNUSABLE_IN_URL = re.compile("[\x00-\x1f\x7f\ufffd]")
# a header may hold a tab (RFC 9110 §5.5), nothing else below space
_UNUSABLE_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
# what a route reads as an integer: ASCII digits only, no sign, separator or space, at most 19 digits
# (2**63 - 1 has 19) — re's \d and int() would also take Arabic-Indic and other Unicode digits
_STRICT_INTEGER = re.compile(r"[0-9]{1,19}", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` that matches only ids both databases can bind (64-bit), in ASCII digits (werkzeug's
    `\\d+` also takes other scripts' digits): anything else is 404."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT64_MAX,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def int64(value: str) -> int:
    """The one parser for integers from a URL (query values, keyset cursors): a string of 1 to 19
    ASCII digits at most 2**63 - 1, the largest id both SQLite and PostgreSQL bind (SPEC P1).
    Raises ValueError for anything else, so `request.args.get(name, type=int64)` gives the
    default (the first page) for a value no route can use."""
    if not isinstance(value, str) or not _STRICT_INTEGER.fullmatch(value):
        raise ValueError(f"not a 64-bit decimal: {value[:40]!r}")
    number = int(value)
    if number > INT64_MAX:
        raise ValueError("beyond 64 bits")
    return number


def _beyond_64_bits(value: str) -> bool:
    # only plain digits: int() would also read "2026…_42" (a moderation cursor) as one huge number.
    # The other forms int() reads are no number to a route, since every route parses with `int64`
    if not _INTEGER.fullmatch(value):
        return False
    digits = value.lstrip("+-").lstrip("0")
    # int() of thousands of digits is slow (and refused past 4,300): the length decides first
    return len(digits) > 19 or int(digits or "0") > INT64_MAX


def unusable_url_value(value: str) -> bool:
    """True for a path or query value no route can use (see the module docstring)."""
    return len(value) > MAX_VALUE_CHARS or bool(_UNUSABLE_IN_URL.search(value)) or _beyond_64_bits(value)


def refuse_unusable_values() -> None:
    """A before-request check: abort(400) when the path, a query key or value, or a header is unusable."""
    request = flask_request._get_current_object()  # once: every request passes here (issue #15)
    if unusable_url_value(request.path):
        abort(400)
    query = request.query_string
    if len(query) > MAX_QUERY_BYTES:
        abort(400)
    if query.count(b"&") >= MAX_QUERY_PARAMS:
        abort(400)
    try:
        # werkzeug leaves invalid UTF-8 escapes in query values as they came (`%FF`)
        unquote_to_bytes(request.query_string).decode("utf-8")
    except UnicodeDecodeError:
        abort(400)
    for key, value in request.args.items(multi=True):
        if unusable_url_value(key) or unusable_url_value(value):
            abort(400)
    for _name, value in request.headers.items():
        if len(value) > MAX_HEADER_CHARS or _UNUSABLE_IN_HEADER.search(value):
            abort(400)
    limit = request.max_content_length
    if (request.mimetype == "application/x-www-form-urlencoded" and request.content_length
            and (limit is None or request.content_length <= limit)):
        # read once and kept: the form is then parsed from this copy (a body over
        # MAX_CONTENT_LENGTH is left to the usual handling: werkzeug refuses it unread)
        if request.get_data(cache=True).count(b"&") >= MAX_FORM_FIELDS:
            abort(400)


def init_app(app) -> None:
    """Bound `<int:…>` (before any blueprint adds its rules) and check every request first."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unusable_values)
