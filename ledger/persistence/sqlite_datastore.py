"""The embedded default's SQLite datastore: a read never waits on its own thread's writer.

The library's SQLite pool issues one writer connection at a time, and a thread waiting
for it keeps the pool's fairness semaphore while it waits. A thread that holds the
writer and then asks for a reader (the in-process projections read data keys and the
log inside their write transaction; a rebuild's final catch-up reads the whole tail of
the log there) would queue behind that waiting thread, which waits for it in turn:
both stood still until the pool's 5 s timeout failed the other writer. Measured in
``tests/integration/test_rebuild.py``: stalls of 5 s and a refused HELP reply.

Here a read on the thread that holds the writer runs on the writer's connection, inside
its open transaction (it sees that transaction's own writes, as it should), and neither
begins nor ends a transaction of its own. Every other connection request goes to the
library's pool unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.persistence import InfrastructureFactoryError
from eventsourcing.sqlite import SQLiteConnection, SQLiteCursor, SQLiteDatastore, SQLiteFactory


class WriterAwareSQLiteDatastore(SQLiteDatastore):
    """``SQLiteDatastore`` whose reads reuse the calling thread's writer connection."""

    def __init__(self, db_name: str, **kwargs: object) -> None:
        super().__init__(db_name, **kwargs)  # type: ignore[arg-type]
        self._held = threading.local()

    def _writer_held(self) -> SQLiteConnection | None:
        held: SQLiteConnection | None = getattr(self._held, "writer", None)
        return held

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        held = self._writer_held()
        if held is None or commit:
            with super().transaction(commit=commit) as cursor:
                yield cursor
            return
        # Inside the writer's transaction: no BEGIN, no ROLLBACK. Like the library's own
        # transaction, this yields the sqlite3 cursor the SQLiteCursor wraps.
        with held.cursor() as cursor:
            yield cursor  # type: ignore[misc]

    @contextmanager
    def get_connection(self, *, commit: bool) -> Iterator[SQLiteConnection]:
        held = self._writer_held()
        if held is not None and not commit:
            yield held
            return
        with super().get_connection(commit=commit) as connection:
            if not commit:
                yield connection
                return
            self._held.writer = connection
            try:
                yield connection
            finally:
                self._held.writer = None


class LedgerSQLiteFactory(SQLiteFactory):
    """The library's SQLite factory, with the writer-aware datastore."""

    def __init__(self, env: object) -> None:
        super().__init__(env)  # type: ignore[arg-type]
        plain = self.datastore
        if type(plain) is not SQLiteDatastore:
            raise InfrastructureFactoryError(f"unexpected datastore {type(plain).__name__}")
        self.datastore = WriterAwareSQLiteDatastore(
            plain.pool.db_name,
            lock_timeout=plain.pool.lock_timeout,
            single_row_tracking=plain.single_row_tracking,
            originator_id_type=plain.originator_id_type,
        )
        plain.close()
