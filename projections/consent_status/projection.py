"""The ``consent_status`` projection: one class for every feed of events.

On the embedded default the in-process runner feeds it from the ledger's notification
log; with Kafka configured a consumer feeds it from ``consent.events``; a rebuild feeds
a fresh copy from the ledger. The API reads it through ``ConsentStatusView``.
"""

from __future__ import annotations

from uuid import UUID

from projections.consent_status.table import ConsentStatusModel
from projections.consent_status.view import ConsentStatusView, ProjectedSubject
from projections.subject_projection import SUBJECT_EVENTS, SubjectProjection

__all__ = ["SUBJECT_EVENTS", "ConsentStatusProjection"]


class ConsentStatusProjection(SubjectProjection, ConsentStatusView):
    model: ConsentStatusModel

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
