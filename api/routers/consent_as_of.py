"""``GET /v1/subjects/{channel}/{address}/consent?as_of=``: status per purpose at a past
moment, folded from the ledger (the console's as-of picker reads the same service)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.consent_as_of import consent_as_of, parse_as_of
from api.deps import Auditor, ServicesDep
from api.schemas import ErrorOut, PurposeOut

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])


class ConsentAsOfOut(BaseModel):
    subject_id: UUID
    channel: str
    address: str
    as_of: str
    events: int = Field(description="how many of the subject's events the ledger held then")
    purposes: dict[str, PurposeOut]


@router.get(
    "/{channel}/{address}/consent",
    response_model=ConsentAsOfOut,
    responses={422: {"model": ErrorOut}},
    summary="Status per purpose as the ledger knew it at a past moment (its recorded_at)",
)
def subject_consent_as_of(
    channel: str,
    address: str,
    principal: Auditor,
    services: ServicesDep,
    as_of: Annotated[str, Query(description="an RFC 3339 time", examples=["2026-11-21T10:00:00Z"])],
) -> ConsentAsOfOut:
    moment = parse_as_of(as_of)
    subject, purposes, known = consent_as_of(
        services.ledger, principal.tenant, channel, address, moment
    )
    return ConsentAsOfOut(
        subject_id=subject.id,
        channel=subject.channel.value,
        address=subject.address,
        as_of=as_of,
        events=known,
        purposes=purposes,
    )
