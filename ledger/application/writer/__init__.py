"""The writer: units of work queued by concurrent callers, decided and committed in groups."""
