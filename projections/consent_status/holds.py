"""Held gateway opt-outs, as ``consent_status`` shows them: the ``*`` row of a held
subject has status ``held``, since the time the gateway reported the opt-out, and names
the ``opt_out_held`` event (the hold's id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.domain.consent_status import ALL_PURPOSES, Status
from projections.consent_status.table import ConsentStatusModel


@dataclass(frozen=True)
class HeldRow:
    subject_id: UUID
    channel: str
    address: str | None
    held_since: datetime
    hold_id: UUID


def held(
    model: ConsentStatusModel,
    tenant: str,
    *,
    channel: str | None = None,
    after: UUID | None = None,
    limit: int = 1000,
) -> list[HeldRow]:
    """The tenant's held subjects in subject-id order, after ``after``, at most ``limit``."""
    db = model.db
    where = "tenant = ? AND status = ? AND purpose = ?"
    params: list[object] = [tenant, Status.HELD.value, ALL_PURPOSES]
    if channel is not None:
        where += " AND channel = ?"
        params.append(channel)
    if after is not None:
        where += " AND subject_id > ?"
        params.append(db.uuid(after))
    with db.read() as cursor:
        rows = cursor.execute(
            "SELECT subject_id, channel, address, since, event_id FROM "
            f"{model.t('consent_status')} WHERE {where} ORDER BY subject_id LIMIT ?",
            (*params, limit),
        ).fetchall()
    return [
        HeldRow(
            subject_id=db.uuid_of(row["subject_id"]),
            channel=row["channel"],
            address=row["address"],
            held_since=db.time_of(row["since"]),
            hold_id=db.uuid_of(row["event_id"]),
        )
        for row in rows
    ]
