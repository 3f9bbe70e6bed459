"""The HTTP API and the ``consent-ledger`` command line."""
