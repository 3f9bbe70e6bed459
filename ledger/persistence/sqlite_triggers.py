"""Triggers that make a table of the SQLite file refuse changes.

SQLite has no TRUNCATE (``DELETE FROM t`` without a WHERE is a DELETE, and fires the
DELETE trigger), and no roles: anyone who can open the file can drop a trigger, so these
catch mistakes and casual edits; the PostgreSQL triggers and roles are the real guard.
"""

from __future__ import annotations

APPEND_ONLY = ("UPDATE", "DELETE")
KEEP_DELETE = ("UPDATE",)


def refuse_in_sqlite(table: str, operations: tuple[str, ...]) -> list[str]:
    """``CREATE TRIGGER IF NOT EXISTS`` statements refusing ``operations`` on ``table``."""
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
        f"BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT, "
        f"'consent ledger table {table} is append-only: {operation} refused'); END"
        for operation in operations
    ]
