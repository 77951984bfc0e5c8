"""The ``ledger`` command-line interface (click).

Commands parse options, open the store, call the ``ledger`` library and turn
its answers into text or ``--json``.  No domain rule lives here.
"""
