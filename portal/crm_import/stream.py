"""Reading the export one customer at a time, so memory does not grow with the file (ijson).

The importer reads the file once and walks the parser's events itself: it checks the
document's shape (an object holding only a "customers" list) and refuses items nested deeper
than MAX_DEPTH without ever building them. (The apply pass reads the validated customers from
a spool, not the file: see spool.py.)
"""
from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import ijson

from portal.crm_import.report import ImportFailed

MAX_DEPTH = 16  # a customer is 4 levels deep; anything far deeper is an attack or a broken export
# no field holds a number or a text this long; converting longer digit runs to int costs quadratic
# time, and ijson's C backend crashes on ints past Python's int_max_str_digits
MAX_DIGITS = 10_000
_DIGITS = b"0123456789"
_LONG_RUN = re.compile(rb"[0-9]{%d,}" % (MAX_DIGITS + 1))
_TOP = 'document: must be a JSON object with a "customers" list'


class _TooManyDigits(Exception):
    def __init__(self, offset: int):
        self.offset = offset


class Reader:
    """A binary file that counts the bytes read (for progress) and refuses absurd digit runs."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.bytes_read, self._trailing = raw, 0, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        start, self.bytes_read = self.bytes_read, self.bytes_read + len(chunk)
        lead = len(chunk) - len(chunk.lstrip(_DIGITS))
        if self._trailing + lead > MAX_DIGITS or _LONG_RUN.search(chunk):
            raise _TooManyDigits(start)
        self._trailing = self._trailing + lead if lead == len(chunk) else len(chunk) - len(chunk.rstrip(_DIGITS))
        return chunk

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Source:
    """Where the export comes from: a file path, or (for the demo and tests) a parsed document."""

    def __init__(self, origin: Path | str | dict):
        self.name = "document" if isinstance(origin, dict) else str(origin)
        self._data = json.dumps(origin, ensure_ascii=False).encode() if isinstance(origin, dict) else None
        self._path = None if isinstance(origin, dict) else Path(origin)
        try:
            self.size = len(self._data) if self._data is not None else self._path.stat().st_size
        except OSError as error:
            raise ImportFailed([f"{self.name}: cannot be read ({error.strerror})"]) from error

    def open(self) -> Reader:
        if self._data is not None:
            return Reader(io.BytesIO(self._data))
        try:
            return Reader(open(self._path, "rb"))  # noqa: SIM115 (closed by the caller's `with`)
        except OSError as error:
            raise ImportFailed([f"{self.name}: cannot be read ({error.strerror})"]) from error


@contextmanager
def _parsing(source: Source, reader: Reader) -> Iterator[None]:
    """Turn parser failures into one line each; allow long ints while parsing (see MAX_DIGITS)."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    except _TooManyDigits as error:
        raise ImportFailed([f"{source.name}: a number or text of more than {MAX_DIGITS} digits "
                            f"(near byte {error.offset}); no field holds one"]) from None
    except ijson.JSONError as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else "invalid"
        raise ImportFailed([f"{source.name}: not valid JSON (near byte {reader.bytes_read}: {detail})"]) from None
    except UnicodeDecodeError:
        raise ImportFailed([f"{source.name}: not UTF-8 text"]) from None
    finally:
        sys.set_int_max_str_digits(limit)


def checked_customers(source: Source, reader: Reader, errors: list[str]) -> Iterator[tuple[int, object]]:
    """(index, raw item) for each item of "customers", noting shape problems in `errors`.

    An item nested deeper than MAX_DEPTH is reported and skipped without being built.
    """
    with _parsing(source, reader):
        events = ijson.basic_parse(reader)
        first, _ = next(events, ("end", None))
        if first != "start_map":
            errors.append(_TOP)
            for _ in events:  # still report invalid JSON rather than stopping at the first token
                pass
            return
        seen = False
        for event, value in events:
            if event == "end_map":
                break
            key = value
            event, value = next(events)
            if key != "customers":
                errors.append(f"{key}: unknown field")
                _skip(event, events)
                continue
            seen = event != "null"  # null is as good as missing: "is required"
            if event == "null":
                continue
            if event != "start_array":
                errors.append("customers: must be a list")
                _skip(event, events)
            else:
                index = 0
                for event, value in events:
                    if event == "end_array":
                        break
                    item = _build(event, value, events)
                    if item is _TOO_DEEP:
                        errors.append(f"customers[{index}]: nested deeper than {MAX_DEPTH} levels")
                    elif isinstance(item, _Duplicate):
                        errors.append(f'customers[{index}]: the field "{item.key}" appears more than once')
                    else:
                        yield index, item
                    index += 1
        if not seen:
            errors.append("customers: is required")
        for _ in events:
            pass


_TOO_DEEP = object()


class _Duplicate:
    """An item in which one object names a field twice: JSON parsers keep one of the two values
    silently (RFC 8259 §4 leaves it open), so which one the CRM meant is unknown."""

    def __init__(self, key: object):
        self.key = str(key)[:64]
_OPEN = {"start_map", "start_array"}
_CLOSE = {"end_map", "end_array"}


def _skip(event: str, events: Iterator[tuple[str, object]]) -> None:
    """Consume the rest of a value whose first event was `event`, keeping only a depth count."""
    _close(1 if event in _OPEN else 0, events)


def _close(depth: int, events: Iterator[tuple[str, object]]) -> None:
    """Consume events until `depth` open containers are closed."""
    while depth:
        event, _ = next(events)
        depth += (event in _OPEN) - (event in _CLOSE)


def _build(event: str, value: object, events: Iterator[tuple[str, object]]) -> object:
    """The value starting with `event`, built without recursion; _TOO_DEEP past MAX_DEPTH.

    The loop runs for every token of the export (most of the validation pass's parsing): it
    tests the event names by their first letters, the hot cases first, with nothing looked up
    outside its locals."""
    if event not in _OPEN:
        return value
    root: dict | list = {} if event == "start_map" else []
    stack, keys = [root], [None]
    top, key = root, None
    duplicate = None
    for event, value in events:
        first = event[0]
        if first == "m":  # map_key
            if duplicate is None and value in top:
                duplicate = _Duplicate(value)
            key = value
        elif first == "e":  # end_map, end_array
            stack.pop()
            keys.pop()
            if not stack:
                return duplicate or root
            top, key = stack[-1], keys[-1]
        elif first == "s" and event[2] == "a":  # start_map, start_array (not "string")
            if len(stack) >= MAX_DEPTH:
                _close(len(stack) + 1, events)  # the new child and every container around it
                return _TOO_DEEP
            child = {} if event == "start_map" else []
            if type(top) is dict:
                top[key] = child
            else:
                top.append(child)
            keys[-1] = key
            stack.append(child)
            keys.append(None)
            top, key = child, None
        elif type(top) is dict:
            top[key] = value
        else:
            top.append(value)
    raise ijson.IncompleteJSONError("premature end")
