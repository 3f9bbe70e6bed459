"""``GET /v1/subjects/{channel}/{address}/consent-records``: the subject's consent as
ISO/IEC TS 27560 records in W3C DPV JSON-LD (``format=dpv``, one record per purpose) or
as Kantara Consent Receipts v1.1, one per grant (``format=kantara``), each linked to its
ledger event (id, hash, position) so it is checked with the attestation bundle."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import Auditor, ServicesDep
from api.errors import ApiError
from api.json_responses import json_response
from api.schemas import ErrorOut
from ledger.attestation.consent_records import dpv_records, kantara_receipts, read_consent
from ledger.domain.subjects import resolve_subject

router = APIRouter(prefix="/v1/subjects", tags=["consent records"])

Format = Annotated[
    Literal["dpv", "kantara"],
    Query(alias="format", description="dpv (27560 records, JSON-LD) or kantara (receipts)"),
]


@router.get(
    "/{channel}/{address}/consent-records",
    responses={
        200: {"content": {"application/ld+json": {}}},
        404: {"model": ErrorOut},
        409: {"model": ErrorOut},
    },
    summary="The subject's consent as ISO/IEC TS 27560 records (DPV JSON-LD) or Kantara "
    "Consent Receipts v1.1",
)
def consent_records(
    channel: str, address: str, principal: Auditor, services: ServicesDep, fmt: Format = "dpv"
) -> Response:
    subject = resolve_subject(principal.tenant, channel, address)
    consent = read_consent(services.ledger, subject)
    if not consent.events:
        raise ApiError(
            404, "subject_not_found", "the ledger holds no events of this subject", "address"
        )
    policy = services.compliance.policy_for(principal.tenant)
    if fmt == "kantara":
        body: dict[str, Any] = {
            "subject_id": str(subject.id),
            "receipts": kantara_receipts(consent, policy),
        }
        return json_response(body)
    document = json_response(dpv_records(consent, policy))
    document.headers["content-type"] = "application/ld+json"
    return document
