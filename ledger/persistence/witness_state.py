"""A witness's memory: the latest checkpoint it cosigned per log, in its own SQLite file.

The check of a submission against this state and the update that follows run in one
``BEGIN IMMEDIATE`` transaction (and under a process lock), so two submissions racing
can never roll the witness back (c2sp.org/tlog-witness: "checking the old size … and
persisting the new checkpoint must be performed atomically"). Refused submissions whose
log signature verified are kept in ``refused`` as evidence of a log's misbehaviour.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Witnessed:
    origin: str
    tree_size: int
    root_hash: bytes


class WitnessState:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.executescript(
            "CREATE TABLE IF NOT EXISTS witnessed (origin TEXT PRIMARY KEY, "
            "tree_size INTEGER NOT NULL, root_hash BLOB NOT NULL, note TEXT NOT NULL, "
            "updated_at TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS refused (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "origin TEXT NOT NULL, at TEXT NOT NULL, reason TEXT NOT NULL, body TEXT NOT NULL);"
        )

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def latest(self, origin: str) -> Witnessed | None:
        row = self._connection.execute(
            "SELECT tree_size, root_hash FROM witnessed WHERE origin = ?", (origin,)
        ).fetchone()
        return Witnessed(origin, row[0], bytes(row[1])) if row else None

    def advance(
        self,
        origin: str,
        decide: Callable[[Witnessed | None], tuple[Witnessed, str] | None],
        then: Callable[[], T],
    ) -> T:
        """Atomically: ``decide`` from the stored state whether to store a new one (its
        return value: the new state and its note, or None to store nothing); ``then`` runs
        inside the same transaction (it signs), so a failure stores nothing."""
        with self._transaction() as c:
            row = c.execute(
                "SELECT tree_size, root_hash FROM witnessed WHERE origin = ?", (origin,)
            ).fetchone()
            current = Witnessed(origin, row[0], bytes(row[1])) if row else None
            decision = decide(current)
            if decision is not None:
                new, note = decision
                c.execute(
                    "INSERT INTO witnessed (origin, tree_size, root_hash, note, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
                    "tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
                    "note = excluded.note, updated_at = excluded.updated_at",
                    (origin, new.tree_size, new.root_hash, note, _now()),
                )
            return then()

    def record_refusal(self, origin: str, reason: str, body: str) -> None:
        with self._transaction() as c:
            c.execute(
                "INSERT INTO refused (origin, at, reason, body) VALUES (?, ?, ?, ?)",
                (origin, _now(), reason, body),
            )

    def refusals(self, origin: str) -> list[str]:
        rows = self._connection.execute(
            "SELECT reason FROM refused WHERE origin = ? ORDER BY id", (origin,)
        ).fetchall()
        return [row[0] for row in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat()
