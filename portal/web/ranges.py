"""HTTP range requests as RFC 9110 §14 says, on top of werkzeug's own single-range support
(`Response.make_conditional`, which also evaluates `If-Range`, `If-None-Match` and `If-Match`).

Werkzeug answers 416 to any `Range` it cannot use: an unknown unit, garbage, several ranges, or a
suffix longer than the file. RFC 9110 wants an unknown unit or an invalid header ignored (§14.2),
a suffix longer than the representation to select all of it (§14.1.2), and lets a server answer
several ranges with the whole representation (§14.2: a server MAY ignore Range). So the request's
`Range` is first rewritten into the one form werkzeug serves right, or dropped.
"""
from __future__ import annotations

import re

from flask import Request, Response
from werkzeug.http import parse_etags

# RFC 9110 §14.1.2: int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# more digits than any file has bytes: the position is simply "beyond the end" (and int() of a
# 5,000-digit number would raise ValueError)
_MAX_DIGITS = 18
_BEYOND = 10**_MAX_DIGITS


def _position(digits: str) -> int:
    return _BEYOND if len(digits) > _MAX_DIGITS else int(digits)


def canonical_range(header: str | None, size: int) -> str | None:
    """The `Range` value werkzeug should see for a representation of `size` bytes.

    Returns None to serve the whole representation (no header, an unknown unit, an invalid
    header, several ranges, or an empty file); ``"bytes=<first>-<last>"`` for one satisfiable
    range, clamped to the file; or ``"bytes=<size>-"`` when no range is satisfiable, which
    werkzeug answers with 416 and ``Content-Range: bytes */<size>`` (§14.1.1, §15.5.17) —
    unless `If-Range` says the file changed, in which case the whole file is served (§13.1.5).
    """
    if not header or size <= 0:
        return None
    unit, equals, range_set = header.partition("=")
    if not equals or unit.strip(" \t").lower() != "bytes":
        return None  # §14.2: a range unit it does not understand MUST be ignored
    # §5.6.1: empty list elements do not count
    specs = [spec.strip(" \t") for spec in range_set.split(",") if spec.strip(" \t")]
    if not specs:
        return None
    satisfiable: list[tuple[int, int]] = []
    for spec in specs:
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None or spec == "-":
            return None  # an invalid ranges-specifier is ignored
        first_digits, last_digits = match.groups()
        if first_digits:
            first = _position(first_digits)
            last = _position(last_digits) if last_digits else _BEYOND
            if last < first:
                return None  # §14.1.1: invalid
            if first < size:
                satisfiable.append((first, min(last, size - 1)))
        else:
            suffix = _position(last_digits)
            if suffix > 0:  # §14.1.1: a suffix-range is satisfiable if its length is not zero
                satisfiable.append((max(size - suffix, 0), size - 1))
    if not satisfiable:
        return f"bytes={size}-"
    if len(specs) > 1:
        return None
    first, last = satisfiable[0]
    return f"bytes={first}-{last}"


def serve_ranges(response: Response, request: Request, size: int) -> Response:
    """Make a full 200 `response` of `size` bytes answer the request's Range, If-Range and
    validators (206 / 304 / 412, or raises RequestedRangeNotSatisfiable for 416), as
    `canonical_range` decides. HEAD gets exactly the headers GET would."""
    environ = dict(request.environ)
    canonical = canonical_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range", "").lstrip()
    etag, _weak = response.get_etag()
    # §13.2.2: If-None-Match is evaluated before Range, so a cached copy is confirmed with 304 even
    # when a range is asked for (werkzeug would serve the range first)
    cached = etag is not None and parse_etags(request.headers.get("If-None-Match")).contains_weak(etag)
    # §13.1.5: a weak entity tag in If-Range never matches, so the Range is ignored
    if canonical is None or if_range.startswith("W/") or cached:
        environ.pop("HTTP_RANGE", None)
    else:
        environ["HTTP_RANGE"] = canonical
    return response.make_conditional(environ, accept_ranges=True, complete_length=size)


def serves_bytes(request: Request, response: Response) -> bool:
    """The response carries bytes of the representation: a GET answered 200 (the whole file) or
    206 (any range, wherever it starts). HEAD, 304, 412 and 416 carry none."""
    return request.method == "GET" and response.status_code in (200, 206)
