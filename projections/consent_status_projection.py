"""The ``consent_status`` projection: one class for every feed of events.

On the embedded default the in-process runner feeds it from the ledger's notification
log; with Kafka configured a consumer feeds it from ``consent.events``; a rebuild feeds
a fresh copy from the ledger. The API reads it through ``ConsentStatusView``.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import Tracking

from ledger.events import LedgerEvent
from projections.checkpoints import Checkpoint
from projections.consent_status_table import ConsentStatusModel
from projections.consent_status_view import ConsentStatusView, ProjectedSubject
from projections.ledger_source import LedgerSource, Positioned
from projections.metrics import ProjectionMetrics
from projections.subject_projection import SUBJECT_EVENTS, SubjectProjection

__all__ = ["SUBJECT_EVENTS", "ConsentStatusProjection"]


class ConsentStatusProjection(SubjectProjection, ConsentStatusView):
    model: ConsentStatusModel

    def __init__(
        self,
        model: ConsentStatusModel,
        source: LedgerSource,
        metrics: ProjectionMetrics | None = None,
    ) -> None:
        super().__init__(model, source, metrics)

    def apply_event(self, event: LedgerEvent, *, position: int, tracking: Tracking | None) -> bool:
        checkpoint = Checkpoint(position=tracking.notification_id if tracking else None)
        return self.apply([Positioned(event, position)], checkpoint) > 0

    def subject(self, subject_id: UUID) -> ProjectedSubject | None:
        with self.db.read() as cursor:
            stored = self._select(cursor, [subject_id]).get(subject_id)
            if stored is None:
                return None
            rows = self.model.rows(cursor, subject_id)
        return ProjectedSubject(
            subject_id=subject_id,
            address=stored.address,
            position=stored.position,
            state=stored.state,
            rows=rows,
        )

    def audience(
        self, tenant: str, channel: str, purpose: str, status: str = "opted_in"
    ) -> list[UUID]:
        with self.db.read() as cursor:
            return self.model.audience(cursor, tenant, channel, purpose, status)
