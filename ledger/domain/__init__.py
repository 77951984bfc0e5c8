"""The governance domain: event-sourced aggregates and their rules.

Importing this package registers every record type with ``ledger.types``.
"""

from ledger.domain import identity  # noqa: F401  (registers record types)
