"""The webhook sender: the ledger's log fanned out into the outbox, delivered signed."""
