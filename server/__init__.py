"""The ledger server: the same ledger over HTTP (``ledger serve``).

``server.service`` runs commands on the ledger (no HTTP in it), ``server.app``
is the ASGI application (Starlette), ``server.errors`` the one place errors
become HTTP statuses, ``server.strictjson`` the request-body parser, and
``server.witness`` a C2SP tlog-witness over the network.
"""
