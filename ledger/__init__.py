"""A signed, append-only governance ledger.

The public Python API (the CLI uses nothing else)::

    from ledger import Ledger, Signer, load_signer, verify_ledger

Names are imported on first use (PEP 562), so that light users of the
package, such as signature-checking worker processes, do not pay for
eventsourcing and SQLAlchemy.  See ``docs/api.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.errors import (
        ConflictError,
        InvalidInputError,
        KeyFileError,
        LedgerError,
        NotFoundError,
        RefusedError,
        StoreError,
        UnauthorisedError,
    )
    from ledger.keys import Signer, load_signer, write_key_pair
    from ledger.verify import verify_ledger

_EXPORTS = {
    "Ledger": "ledger.application",
    "Signer": "ledger.keys",
    "load_signer": "ledger.keys",
    "write_key_pair": "ledger.keys",
    "verify_ledger": "ledger.verify",
    **{name: "ledger.errors" for name in (
        "ConflictError", "InvalidInputError", "KeyFileError", "LedgerError", "NotFoundError",
        "RefusedError", "StoreError", "UnauthorisedError",
    )},
}

__all__ = [
    "ConflictError", "InvalidInputError", "KeyFileError", "Ledger", "LedgerError", "NotFoundError",
    "RefusedError", "Signer", "StoreError", "UnauthorisedError", "load_signer", "verify_ledger",
    "write_key_pair",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
