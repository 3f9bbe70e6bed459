"""Following the ledger's notification log: the outbox every downstream reader follows.

Every stored event has a notification id (its ledger *position*), assigned in the same
transaction as the event. Ids follow commit order (the library's PostgreSQL recorder
locks the table on insert) but have holes where a write failed, so a reader always asks
for ids *greater than* the last one it handled, never for "the next id".

``NotificationLog.follow`` yields batches in id order. It wakes at once when a writer
commits (PostgreSQL LISTEN/NOTIFY on the recorder's channel, or the in-process signal
of the SQLite recorder) and polls every ``poll_interval`` seconds as a backstop, so a
lost notification delays a reader but never stalls it. It yields an empty batch after
each idle wait, so the caller regains control regularly (to check a lock, or stop).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from eventsourcing.persistence import ApplicationRecorder, Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from ledger.persistence.sqlite_subscription import _register as register_sqlite_wakeup
from ledger.runtime.metrics import UNANNOUNCED_BATCHES

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
DEFAULT_POLL_INTERVAL = 1.0
LISTEN_RETRY_SECONDS = 1.0


class NotificationLog:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.recorder = recorder
        self.batch_size = batch_size
        self.poll_interval = poll_interval

    def read(self, after: int, limit: int | None = None) -> Sequence[Notification]:
        """Notifications with ids greater than ``after``, in id order."""
        return self.recorder.select_notifications(
            start=after, limit=limit or self.batch_size, inclusive_of_start=False
        )

    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def follow(self, after: int, stop: threading.Event) -> Iterator[Sequence[Notification]]:
        """Batches of notifications after ``after`` until ``stop`` is set.

        The next batch starts after the last notification of the previous one; an empty
        batch means "nothing new within ``poll_interval``".

        After a batch shorter than ``batch_size`` the log is not read again until a
        wake-up (or the poll): the read saw everything committed before it, and a commit
        after it announces itself after the wake-up was cleared. Reading again at once
        found nothing almost every time: one query (and a pooled connection's check) per
        batch for nothing, for every follower.
        """
        position = after
        announced = True
        with self._wakeups(stop) as wakeup:
            while not stop.is_set():
                wakeup.clear()
                batch = self.read(position)
                if batch:
                    if not announced:
                        # The poll found what no wake-up announced: a lost NOTIFY, or one
                        # still on its way. The backstop works; count it all the same.
                        UNANNOUNCED_BATCHES.inc()
                    announced = True
                    yield batch
                    position = batch[-1].id
                    if len(batch) >= self.batch_size:
                        continue  # more may be waiting: read on at once
                    if wakeup.wait(self.poll_interval):
                        continue  # something was committed meanwhile
                    announced = False
                    yield ()
                    continue
                announced = wakeup.wait(self.poll_interval)
                yield ()

    @contextmanager
    def _wakeups(self, stop: threading.Event) -> Iterator[threading.Event]:
        wakeup = threading.Event()
        recorder = self.recorder
        if isinstance(recorder, SQLiteApplicationRecorder):
            register_sqlite_wakeup(recorder.datastore.pool.db_name, wakeup)
            yield wakeup
            return
        if not isinstance(recorder, PostgresApplicationRecorder):
            yield wakeup
            return
        done = threading.Event()
        listener = threading.Thread(
            target=_listen, args=(recorder, wakeup, done), name="ledger-listen", daemon=True
        )
        listener.start()
        try:
            yield wakeup
        finally:
            done.set()
            listener.join(timeout=5)


def _listen(
    recorder: PostgresApplicationRecorder, wakeup: threading.Event, done: threading.Event
) -> None:
    """LISTEN on the recorder's channel and wake the reader on every NOTIFY."""
    statement = SQL("LISTEN {0}").format(Identifier(recorder.channel_name))
    while not done.is_set():
        try:
            with recorder.datastore.get_connection() as conn:
                conn.execute(statement)  # pool connections are in autocommit mode
                try:
                    while not done.is_set():
                        for _ in conn.notifies(timeout=0.1, stop_after=1):
                            wakeup.set()
                finally:
                    conn.execute("UNLISTEN *")
        except Exception as exc:  # the poll backstop keeps the reader going meanwhile
            log.warning("ledger listen failed; polling until it is back", extra={"error": str(exc)})
            done.wait(LISTEN_RETRY_SECONDS)
