"""``DELETE /v1/subjects/{channel}/{address}/personal-data``: crypto-shredding (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.attestation_schemas import ErasureOut
from api.deps import Admin, ServicesDep
from api.errors import ApiError
from api.schemas import ErrorOut
from api.services import Services
from ledger.application.erasure import DEFAULT_REASON, NothingToErase, erase_personal_data
from ledger.domain.roles import Principal

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
        return erase_subject(services, principal, channel, address, reason)
    except NothingToErase as error:
        raise ApiError(404, error.code, error.message, error.field) from None


def erase_subject(
    services: Services, principal: Principal, channel: str, address: str, reason: str
) -> ErasureOut:
    """Erase one subject (``NothingToErase`` when it has nothing left to erase), and answer
    once the read models dropped their clear copies (a bounded wait)."""
    erased = erase_personal_data(
        services.ledger,
        principal.tenant,
        channel,
        address,
        reason=reason,
        requested_by=principal.key_id,
    )
    applied = services.consent_status.wait_for(erased.position, services.settings.read_wait_seconds)
    return ErasureOut.of(erased, read_models_updated=applied)
