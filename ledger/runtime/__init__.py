"""Process plumbing every command shares: where the ledger is stored, Prometheus metrics,
liveness beats, and following the ledger's notification log."""
