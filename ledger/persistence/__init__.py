"""Recorder extensions of the eventsourcing library's SQLite and PostgreSQL recorders."""
