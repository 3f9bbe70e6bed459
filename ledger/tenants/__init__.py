"""A tenant's settings: keyword rules, reply texts, request window and gateways.

Every change is an event in the ledger's own log (hash-chained like a subject's
history), so an audit can show which rules were in force when an event was classified.
Gateway secrets never enter that log: they live in a separate store (``secret_store``).
"""
