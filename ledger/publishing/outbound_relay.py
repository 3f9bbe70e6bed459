"""The outbound relay: outbox rows -> Kafka ``consent.outbound``.

Follows the outbox (rows written in the same transaction as their events; ids follow
commit order, so it reads "greater than the last id") and produces each message with
the idempotent producer (``make_producer``), key = subject id so one person's messages
stay in order. It records how far it got only after the broker acknowledged every
record up to there: after a crash it resends from there, so a sender may see a
duplicate (it dedupes by the message ``id``), never a gap. Messages of subjects erased
meanwhile are dropped, never sent.

Run it single-active (inside the ``consent-ledger publish`` process, which holds the
publisher's lock): ``run_once()`` moves one batch; the publisher's relay thread calls it
after each batch of events and on each idle wake-up. Being single-active, it keeps its
position in memory after the first load and stores it at most every
``position_seconds`` (0: after every batch), and on ``save()``: a crash resends at most
that much, duplicates the senders drop, never a gap.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

from ledger.application.outbound.delivery import deliverable
from ledger.application.ports import LedgerReader

log = logging.getLogger(__name__)

POSITION_NAME = "consent.outbound"


class PositionStore(Protocol):
    """Where a follower got to (``ledger/publishing/positions.py`` is one)."""

    def load(self, name: str) -> int: ...

    def store(self, name: str, position: int) -> None: ...


class OutboundRelay:
    def __init__(
        self,
        ledger: LedgerReader,
        producer: KafkaProducer,
        topic: str,
        positions: PositionStore,
        *,
        name: str = POSITION_NAME,
        batch_size: int = 500,
        ack_timeout: float = 30.0,
        position_seconds: float = 0.0,
    ) -> None:
        self.ledger = ledger
        self.producer = producer
        self.topic = topic
        self.positions = positions
        self.name = name
        self.batch_size = batch_size
        self.ack_timeout = ack_timeout
        self.position_seconds = position_seconds
        self._position: int | None = None  # acknowledged up to here (None: not loaded)
        self._stored: int | None = None
        self._stored_at = time.monotonic()

    def run_once(self) -> int:
        """Publish the next batch; returns how many outbox rows it moved past."""
        if self._position is None:
            self._position = self._stored = self.positions.load(self.name)
        rows = self.ledger.store.select_outbox(after=self._position, limit=self.batch_size)
        if not rows:
            self._save_if_due()
            return 0
        pending = []
        for item in deliverable(self.ledger, rows):
            row = item.row
            context = {"outbox_id": row.id, "kind": row.kind, "tenant": row.tenant}
            if item.document is None:
                log.info("outbound message dropped: its subject was erased", extra=context)
                continue
            future = self.producer.send(
                self.topic,
                key=str(row.subject_id).encode("utf-8"),
                value=json.dumps(item.document, ensure_ascii=False).encode("utf-8"),
                headers=[
                    ("outbox_id", str(row.id).encode("ascii")),
                    ("kind", row.kind.encode("utf-8")),
                    ("tenant", row.tenant.encode("utf-8")),
                ],
            )
            pending.append((future, context))
        self.producer.flush(timeout=self.ack_timeout)
        for future, context in pending:
            try:
                future.get(timeout=self.ack_timeout)
            except KafkaError:
                log.error("outbound message not acknowledged", extra=context)
                raise
        self._position = rows[-1].id
        self._save_if_due()
        log.info(
            "outbound messages published",
            extra={"topic": self.topic, "count": len(pending), "position": rows[-1].id},
        )
        return len(rows)

    def save(self) -> None:
        """Store the acknowledged position now, if it moved since it was last stored."""
        if self._position is not None and self._position != self._stored:
            self.positions.store(self.name, self._position)
            self._stored = self._position
        self._stored_at = time.monotonic()

    def _save_if_due(self) -> None:
        if time.monotonic() - self._stored_at >= self.position_seconds:
            self.save()
