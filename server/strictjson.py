"""Strict JSON for request bodies: what the records forbid is refused at the door.

Duplicate keys, floats, NaN/Infinity, nesting deeper than 32 and bodies that
are not UTF-8 are refused with a 400, before anything else reads them.
"""

from __future__ import annotations

import json
from typing import Any

from server.errors import HTTPError

MAX_DEPTH = 32


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise HTTPError(400, "bad_json", f"duplicate key {key[:40]!r} in the request body")
        out[key] = value
    return out


def _float(text: str) -> Any:
    raise HTTPError(400, "bad_json", f"{text[:40]} is a float; numbers in requests are integers "
                                     "(amounts are strings)")


def _constant(text: str) -> Any:
    raise HTTPError(400, "bad_json", f"{text} is not JSON")


def _depth(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise HTTPError(400, "bad_json", f"the request body nests deeper than {MAX_DEPTH}")
    if isinstance(value, dict):
        for item in value.values():
            _depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _depth(item, depth + 1)


def loads(body: bytes) -> Any:
    """Parse a request body strictly (an HTTPError 400 otherwise)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "bad_json", "the request body is not UTF-8") from None
    try:
        # A deep nest is refused by the parser's own recursion limit first.
        value = json.loads(text, object_pairs_hook=_pairs, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise HTTPError(400, "bad_json", f"the request body nests deeper than {MAX_DEPTH}") from None
    except json.JSONDecodeError as exc:
        raise HTTPError(400, "bad_json", f"the request body is not JSON: {exc.msg} at character {exc.pos}") from None
    _depth(value)
    return value
