"""Time travel: naming a past point of the log.

``--as-of`` takes a log position (0-based; the answer includes that record and
nothing after it), an event hash, or a time (the last record made at or
before it).  Answers are computed from the records up to that point.
"""

from __future__ import annotations

import re
from typing import Any

from ledger.errors import InvalidInputError, NotFoundError
from ledger.record import format_time
from ledger.timeparse import parse_user_time


def resolve_as_of(ledger: Any, text: str) -> int:
    """The last log position included by ``--as-of text``."""
    value = text.strip()
    size = int(ledger.size())
    if value.isdigit():
        position = int(value)
        if position >= size:
            raise NotFoundError(f"there is no record at position {position} (the log has {size})")
        return position
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return int(ledger.position_of(value))
    try:
        moment = format_time(parse_user_time(value))
    except InvalidInputError:
        raise InvalidInputError(f"--as-of {text!r} is not a position, an event hash or a time") from None
    # Writers are serialised and stamp `at` while holding the lock, so times
    # rise with positions: a binary search reads O(log n) records.
    low, high = 0, size - 1
    if size == 0 or ledger.record_at(0).at > moment:
        raise NotFoundError(f"the ledger had no records at {moment}")
    while low < high:
        middle = (low + high + 1) // 2
        if ledger.record_at(middle).at <= moment:
            low = middle
        else:
            high = middle - 1
    return low
