"""``DELETE /v1/subjects/{channel}/{address}/personal-data``: crypto-shredding (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.attestation_schemas import ErasureOut
from api.deps import Admin, ServicesDep
from api.errors import ApiError
from api.schemas import ErrorOut
from ledger.application.erasure import DEFAULT_REASON, NothingToErase, erase_personal_data

router = APIRouter(prefix="/v1/subjects", tags=["personal data"])


@router.delete(
    "/{channel}/{address}/personal-data",
    response_model=ErasureOut,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    summary="Erase the subject's personal data; the history and its proofs stay verifiable",
)
def erase(
    channel: str,
    address: str,
    principal: Admin,
    services: ServicesDep,
    reason: Annotated[
        str,
        Query(description="a short code kept in the hash chain, e.g. gdpr_art17 (no free text)"),
    ] = DEFAULT_REASON,
) -> ErasureOut:
    try:
        erased = erase_personal_data(
            services.ledger,
            principal.tenant,
            channel,
            address,
            reason=reason,
            requested_by=principal.key_id,
        )
    except NothingToErase as error:
        raise ApiError(404, error.code, error.message, error.field) from None
    # Answer once the read models dropped their clear copies (bounded wait).
    applied = services.consent_status.wait_for(erased.position, services.settings.read_wait_seconds)
    return ErasureOut.of(erased, read_models_updated=applied)
