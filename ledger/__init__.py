"""A signed, append-only governance ledger.

The public Python API (the CLI uses nothing else)::

    from ledger import Ledger, Signer, load_signer, verify_ledger

See ``docs/api.md``.
"""

from ledger import domain  # noqa: F401  (registers every record type)
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

__all__ = [
    "ConflictError", "InvalidInputError", "KeyFileError", "Ledger", "LedgerError",
    "NotFoundError", "RefusedError", "Signer", "StoreError", "UnauthorisedError",
    "load_signer", "write_key_pair",
]
