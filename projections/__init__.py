"""Read models built from the ledger's events, and the queries campaign systems ask."""
