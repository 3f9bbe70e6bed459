"""``/v1/contacts/{contact_id}``: one person of the business with several numbers.

Status (campaign, auditor), history and attestation (auditor) of every number linked to
the contact id, each number with its own chain; and erasure of them all (admin). The
contact id is found through the tenant's keyed index; a contact with no linked number
(never named, or erased) is ``404 contact_not_found`` (another tenant's contact too).
Paths are logged by their route template, never with the contact id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.attestation_schemas import ErasureOut
from api.deps import Admin, Auditor, ServicesDep, StatusReader
from api.errors import ApiError
from api.json_responses import json_response
from api.routers.attestation import AsOf, parse_as_of, sealed_bundle
from api.routers.personal_data import erase_subject
from api.routers.subjects import After, history_out, status_out
from api.schemas import ErrorOut, HistoryOut, SubjectOut
from api.services import Services
from ledger.application.erasure import DEFAULT_REASON, NothingToErase
from ledger.domain.subjects import SubjectRef

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


class ContactOut(BaseModel):
    subjects: list[SubjectOut] = Field(
        description="every number of the contact, in the order they were linked"
    )


class ContactHistoryOut(BaseModel):
    subjects: list[HistoryOut]


class ContactErasureOut(BaseModel):
    erased: list[ErasureOut] = Field(description="one erasure event per number")


def _subjects(services: Services, tenant: str, contact_id: str) -> list[SubjectRef]:
    subjects = services.ledger.contact_subjects(tenant, contact_id)
    if not subjects:
        raise ApiError(
            404, "contact_not_found", "no number of this tenant is linked to it", "contact_id"
        )
    return subjects


@router.get(
    "/{contact_id}",
    response_model=ContactOut,
    responses=NOT_FOUND,
    summary="Status per purpose of every number of the contact (read model)",
)
def contact_status(
    contact_id: str, principal: StatusReader, services: ServicesDep, after: After = None
) -> ContactOut:
    subjects = _subjects(services, principal.tenant, contact_id)
    services.wait_for(after)
    return ContactOut(subjects=[status_out(subject, services) for subject in subjects])


@router.get(
    "/{contact_id}/history",
    response_model=ContactHistoryOut,
    responses=NOT_FOUND,
    summary="Every event of every number of the contact, each with its own hash chain",
)
def contact_history(
    contact_id: str, principal: Auditor, services: ServicesDep
) -> ContactHistoryOut:
    subjects = _subjects(services, principal.tenant, contact_id)
    return ContactHistoryOut(
        subjects=[
            history_out(
                services.ledger.history(principal.tenant, subject.channel.value, subject.address)
            )
            for subject in subjects
        ]
    )


@router.get(
    "/{contact_id}/attestation",
    responses=NOT_FOUND,
    summary="An attestation bundle per number of the contact, each verifiable on its own",
)
async def contact_attestation(
    contact_id: str, principal: Auditor, services: ServicesDep, as_of: AsOf = None
) -> Any:
    moment = parse_as_of(as_of)

    def build() -> dict[str, Any]:
        subjects = _subjects(services, principal.tenant, contact_id)
        bundles = [
            sealed_bundle(
                services, principal.tenant, subject.channel.value, subject.address, moment
            )
            for subject in subjects
        ]
        return {"bundles": bundles}

    return json_response(await run_in_threadpool(build))


@router.delete(
    "/{contact_id}/personal-data",
    response_model=ContactErasureOut,
    responses=NOT_FOUND,
    summary="Erase the personal data of every number of the contact, and the link",
)
def erase_contact(
    contact_id: str,
    principal: Admin,
    services: ServicesDep,
    reason: Annotated[
        str,
        Query(description="a short code kept in each hash chain, e.g. gdpr_art17 (no free text)"),
    ] = DEFAULT_REASON,
) -> ContactErasureOut:
    subjects = _subjects(services, principal.tenant, contact_id)
    erased: list[ErasureOut] = []
    for subject in subjects:
        try:
            erased.append(
                erase_subject(services, principal, subject.channel.value, subject.address, reason)
            )
        except NothingToErase:
            continue  # erased meanwhile by another request
    return ContactErasureOut(erased=erased)
