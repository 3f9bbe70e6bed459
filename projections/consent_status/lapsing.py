"""Candidates for a lapse: opted-in (subject, purpose) rows granted before a moment.

The expiry process asks, per tenant with a lapse policy and per purpose, for subjects
whose grant is older than the policy allows; the ledger decides again against the
subject's folded state, so a stale row (renewed meanwhile) records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.domain.consent_status import Status
from projections.consent_status.table import ConsentStatusModel


@dataclass(frozen=True)
class LapseCandidate:
    subject_id: UUID
    tenant: str
    channel: str
    address: str
    purpose: str
    since: datetime


def tenants(model: ConsentStatusModel) -> list[str]:
    """Every tenant with a subject in the read model."""
    with model.db.read() as cursor:
        rows = cursor.execute(
            f"SELECT DISTINCT tenant FROM {model.t('consent_status')} ORDER BY tenant"
        ).fetchall()
    return [row["tenant"] for row in rows]


def granted_before(
    model: ConsentStatusModel, tenant: str, purpose: str, moment: datetime, limit: int
) -> list[LapseCandidate]:
    """Opted-in rows of ``purpose`` whose grant is at or before ``moment``, oldest first
    (erased subjects have no address and get no new events)."""
    db = model.db
    with db.read() as cursor:
        rows = cursor.execute(
            "SELECT subject_id, channel, address, since FROM "
            f"{model.t('consent_status')} WHERE tenant = ? AND purpose = ? AND status = ? "
            "AND since <= ? AND address IS NOT NULL ORDER BY since, subject_id LIMIT ?",
            (tenant, purpose, Status.OPTED_IN.value, db.time(moment), limit),
        ).fetchall()
    return [
        LapseCandidate(
            subject_id=db.uuid_of(row["subject_id"]),
            tenant=tenant,
            channel=row["channel"],
            address=row["address"],
            purpose=purpose,
            since=db.time_of(row["since"]),
        )
        for row in rows
    ]
