"""Opening the read models on the ledger's database, by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from ledger.application.core import LedgerCore
from projections.consent_daily import ConsentDailyModel, ConsentDailyProjection
from projections.consent_status.projection import ConsentStatusProjection
from projections.consent_status.table import ConsentStatusModel
from projections.database import ProjectionDatabase
from projections.ledger_source import LedgerSource
from projections.pending_requests import PendingRequestsModel, PendingRequestsProjection
from projections.read_model import ReadModel
from projections.subject_projection import SubjectProjection

P = TypeVar("P", bound=SubjectProjection)

# name -> (read model class, projection class)
CATALOGUE: dict[str, tuple[type[ReadModel], type[SubjectProjection]]] = {
    "consent_status": (ConsentStatusModel, ConsentStatusProjection),
    "pending_requests": (PendingRequestsModel, PendingRequestsProjection),
    "consent_daily": (ConsentDailyModel, ConsentDailyProjection),
}
PROJECTION_NAMES = tuple(CATALOGUE)


def open_projection(
    name: str, ledger: LedgerCore, *, suffix: str = "", create: bool = True
) -> SubjectProjection:
    """One projection by name, on the ledger's database (tables created unless told)."""
    model_class, projection_class = CATALOGUE[name]
    db = ProjectionDatabase.of(getattr(ledger.recorder, "datastore", None))
    projection = projection_class(model_class(db, suffix), LedgerSource(ledger))
    if create:
        projection.create_tables()
    return projection


@dataclass
class Projections:
    """Every read model, opened together (what the processes run and serve)."""

    consent_status: ConsentStatusProjection
    pending_requests: PendingRequestsProjection
    consent_daily: ConsentDailyProjection

    def all(self) -> list[SubjectProjection]:
        return [self.consent_status, self.pending_requests, self.consent_daily]


def open_typed(name: str, ledger: LedgerCore, cls: type[P], *, create: bool = True) -> P:
    projection = open_projection(name, ledger, create=create)
    if not isinstance(projection, cls):
        raise TypeError(f"{name} is not a {cls.__name__}")
    return projection


def open_projections(ledger: LedgerCore, *, create: bool = True) -> Projections:
    return Projections(
        open_typed("consent_status", ledger, ConsentStatusProjection, create=create),
        open_typed("pending_requests", ledger, PendingRequestsProjection, create=create),
        open_typed("consent_daily", ledger, ConsentDailyProjection, create=create),
    )
