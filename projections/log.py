"""A readable listing of records in log order (for ``ledger log``)."""

from __future__ import annotations

from typing import Any

from ledger import Ledger
from ledger import record as rec


def read_log(ledger: Ledger, start: int, limit: int, as_of: int | None = None) -> list[dict[str, Any]]:
    """Records from position ``start``: envelope fields plus the signer's holder
    (as registered at log position ``as_of``, when given)."""
    from projections.describe import registry_as_of

    holders = {k.key_id: k.holder for k in registry_as_of(ledger, as_of).keys.values()}
    out = []
    for position, record in ledger.read(start, limit):
        out.append({
            "position": position, "at": record.at, "type": record.type, "stream": record.stream,
            "seq": record.seq, "actor": record.actor, "holder": holders.get(record.actor, "?"),
            "event_hash": rec.event_hash(record.raw),
        })
    return out
