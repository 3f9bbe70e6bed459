"""The ``consent-ledger`` command line: one entry point for every process."""
