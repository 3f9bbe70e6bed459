"""Changing and reading a tenant's settings (recorded as events in the ledger's log)."""
