"""The embedded default: every projection fed in-process from the ledger's log.

With no Kafka configured, ``consent-ledger serve`` runs this on a thread: it follows the
notification log (woken by commits, polling as a backstop) and applies each batch to
every projection, the same classes the Kafka consumers feed. With several ``serve``
workers on PostgreSQL, one of them runs it at a time (``leadership``, an advisory
lock); the others read the same read models.
"""

from __future__ import annotations

import logging
import threading

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.core import LedgerCore
from ledger.runtime.leadership import Leadership, LeadershipLost
from ledger.runtime.metrics import PROJECTION_POSITION
from ledger.runtime.notification_log import NotificationLog
from ledger.runtime.storage_settings import StorageSettings
from projections.batch_transaction import apply_together
from projections.consent_status.view import ConsentStatusView
from projections.database import Cursor
from projections.ledger_feed import apply_from_ledger, catch_up
from projections.ledger_source import LedgerSource, Positioned
from projections.poll_memo import PollMemo
from projections.subject_projection import SubjectProjection
from projections.views import Projections, open_projections

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class EmbeddedProjections:
    """Runs the projections on a thread of this process, following the ledger."""

    def __init__(
        self,
        storage: StorageSettings | None = None,
        *,
        ledger: LedgerCore | None = None,
        poll_interval: float = 0.5,
        leadership: Leadership | None = None,
    ) -> None:
        if ledger is None:
            if storage is None:
                raise ValueError("give the storage settings or a ledger")
            ledger = ConsentLedger(storage.eventsourcing_env())
            self._own_ledger: LedgerCore | None = ledger
        else:
            self._own_ledger = None
        self.ledger = ledger
        self.source = LedgerSource(ledger)
        self.projections: Projections = open_projections(ledger)
        self.consent_status: ConsentStatusView = self.projections.consent_status
        self._log = NotificationLog(ledger.recorder, batch_size=1000, poll_interval=poll_interval)
        self._stop = threading.Event()
        self._leadership = leadership
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="projections", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            leadership = self._leadership
            if leadership is not None and not leadership.acquire(self._stop, RETRY_SECONDS):
                return  # stopping
            try:
                self._follow()
            except LeadershipLost:
                log.warning("the in-process projections lost their lock; waiting for it")
            except Exception as exc:
                self._error = exc
                log.exception("projection runner failed; retrying", extra={"error": str(exc)})
                self._stop.wait(RETRY_SECONDS)

    def _follow(self) -> None:
        projections = self.projections.all()
        start = min(p.applied_position() for p in projections)
        for batch in self._log.follow(start, self._stop):
            if not batch:
                if self._leadership is not None:
                    self._leadership.check()
                continue
            items = self.source.decode(batch)
            self._apply(projections, items, batch[-1].id)
            for projection in projections:
                PROJECTION_POSITION.labels(projection.name).set(batch[-1].id)
            self._error = None  # applying again: an earlier failure was passing

    def _apply(
        self, projections: list[SubjectProjection], items: list[Positioned], through: int
    ) -> None:
        """Apply a batch to every projection in one transaction, as the Kafka consumer
        applies a poll (``batch_transaction.py``): statements pipelined, each subject's
        fold, keys and encodings shared (``PollMemo``), positions read in the
        transaction. A transaction of its own for each projection cost ~20 transactions
        and ~5 ms of PostgreSQL's CPU for a lone message (each read model's position read,
        then its write, each through a pooled connection checked as it is taken). The
        positions commit with the rows, so a commit lost in a crash is applied again from
        the ledger. If something in the batch cannot be applied, it is applied again one
        projection at a time, as before, and the projection that fails raises (the runner
        retries it)."""
        names = [p.name for p in projections]
        memo = PollMemo(self.source)

        def together(cursor: Cursor) -> None:
            positions = projections[0].checkpoints.positions_in(cursor, names)
            for projection in projections:
                apply_from_ledger(
                    projection, items, through, cursor, positions[projection.name], memo
                )

        def apart() -> None:
            for projection in projections:
                apply_from_ledger(projection, items, through)

        apply_together(projections[0].db, "embedded", together, apart)

    def catch_up(self) -> int:
        """Apply, on this thread, everything the ledger holds now (a one-shot pass)."""
        return sum(catch_up(p, self.source) for p in self.projections.all())

    def check(self) -> None:
        """Re-raise the error the projection thread is failing with, if it has not recovered."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self._leadership is not None:
            self._leadership.release()
        if self._own_ledger is not None:
            self._own_ledger.close()
