"""The outbound relay: outbox rows -> Kafka ``consent.outbound``.

Follows the outbox (rows written in the same transaction as their events; ids follow
commit order, so it reads "greater than the last id") and produces each message with
the idempotent producer (``make_producer``), key = subject id so one person's messages
stay in order. It records how far it got only after the broker acknowledged every
record up to there: after a crash it resends from there, so a sender may see a
duplicate (it dedupes by the message ``id``), never a gap. Messages of subjects erased
meanwhile are dropped, never sent.

Run it single-active (inside the ``consent-ledger publish`` process, which holds the
publisher's lock): ``run_once()`` moves one batch; the publisher calls it after each
batch of events and on each idle wake-up.
"""

from __future__ import annotations

import json
import logging
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
    ) -> None:
        self.ledger = ledger
        self.producer = producer
        self.topic = topic
        self.positions = positions
        self.name = name
        self.batch_size = batch_size
        self.ack_timeout = ack_timeout

    def run_once(self) -> int:
        """Publish the next batch; returns how many outbox rows it moved past."""
        after = self.positions.load(self.name)
        rows = self.ledger.store.select_outbox(after=after, limit=self.batch_size)
        if not rows:
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
        self.positions.store(self.name, rows[-1].id)
        log.info(
            "outbound messages published",
            extra={"topic": self.topic, "count": len(pending), "position": rows[-1].id},
        )
        return len(rows)
