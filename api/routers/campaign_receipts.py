"""Campaign receipts: ``POST /v1/campaigns/{id}/receipts`` records a send's final list
(``GET …/receipts/{receipt_id}`` gives it back, to rebuild its root);
``GET /v1/subjects/{channel}/{address}/campaigns`` proves which receipts included a
subject, or (``?after_opt_out=<event id>``) that the receipts after an opt-out did not.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field

from api.deps import Campaign, ServicesDep, require
from api.errors import ApiError
from api.json_responses import json_response
from api.openapi_rules import ADDRESS, CHANNEL, PURPOSE
from api.schemas import MAX_POSITION, ErrorOut, Input
from api.services import Services
from api.text_fields import Text
from ledger.attestation.campaigns.log_proofs import checkpoint_object, log_proofs
from ledger.attestation.campaigns.subject_receipts import (
    DEFAULT_PAGE,
    MAX_PAGE,
    SubjectNotFound,
    after_opt_out,
    including,
    opt_out_object,
    receipt_object,
)
from ledger.domain.campaign_receipts import draft_receipt
from ledger.domain.errors import InvalidInput
from ledger.domain.roles import Principal, Role
from ledger.domain.subjects import resolve_subject

router = APIRouter(tags=["campaign receipts"])

MAX_SUBJECTS = 100_000
ReceiptReader = Annotated[Principal, Depends(require(Role.AUDITOR, Role.CAMPAIGN))]


class ReceiptIn(Input):
    channel: Text = Field(max_length=64, json_schema_extra=CHANNEL)
    purpose: Text = Field(max_length=64, json_schema_extra=PURPOSE)
    position: int = Field(
        ge=0,
        le=MAX_POSITION,
        description="the ledger position the list was computed at (X-Ledger-Position)",
    )
    subject_ids: list[Annotated[Text, Field(max_length=64)]] = Field(
        default_factory=list, max_length=MAX_SUBJECTS
    )
    addresses: list[Annotated[Text, Field(json_schema_extra=ADDRESS)]] = Field(
        default_factory=list,
        max_length=MAX_SUBJECTS,
        description="instead of (or beside) subject ids; only their subject ids are kept",
    )


@router.post(
    "/v1/campaigns/{campaign_id}/receipts",
    status_code=201,
    responses={
        200: {"description": "the same receipt again: the one recorded, duplicate true"},
        422: {"model": ErrorOut},
        503: {"model": ErrorOut},
    },
    summary="Record a send's final list: its count and the Merkle root of its sorted subject "
    "ids (201; the same receipt again: 200 with the one recorded, duplicate true)",
)
def record_receipt(
    campaign_id: str, body: ReceiptIn, principal: Campaign, services: ServicesDep
) -> Response:
    if len(body.subject_ids) + len(body.addresses) > MAX_SUBJECTS:
        raise ApiError(
            422, "too_many_subjects", f"at most {MAX_SUBJECTS} subjects per receipt", "subject_ids"
        )
    draft = draft_receipt(
        principal.tenant,
        campaign_id,
        body.channel,
        body.purpose,
        body.position,
        subject_ids=body.subject_ids,
        addresses=body.addresses,
    )
    head = services.ledger.recorder.max_notification_id() or 0
    if draft.as_of_position > head:
        raise InvalidInput(
            f"position {draft.as_of_position} is beyond the ledger's last position {head}",
            field="position",
        )
    receipt = services.campaign_receipts.record(draft, recorded_by=principal.key_id)
    answer = {"receipt_id": str(receipt.id), **receipt_object(receipt)}
    answer["duplicate"] = receipt.duplicate
    return json_response(answer, status_code=200 if receipt.duplicate else 201)


@router.get(
    "/v1/campaigns/{campaign_id}/receipts/{receipt_id}",
    responses={404: {"model": ErrorOut}},
    summary="One receipt and its whole list of subject ids in leaf order, to rebuild its root",
)
def receipt_list(
    campaign_id: str, receipt_id: str, principal: ReceiptReader, services: ServicesDep
) -> Response:
    receipts = services.campaign_receipts
    try:
        found = receipts.find(principal.tenant, UUID(receipt_id))
    except ValueError:
        found = None
    if found is None or found.event.campaign_id != campaign_id:
        raise ApiError(404, "receipt_not_found", "no such receipt of this campaign", "receipt_id")
    tree = receipts.tree(found)
    body = {"receipt": receipt_object(found), "subject_ids": [str(sid) for sid in tree.ids]}
    return json_response(body)


Cursor = Annotated[
    int | None, Query(ge=0, description="next_cursor of the page before (a ledger position)")
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="receipts per page")]
AfterOptOut = Annotated[
    str | None,
    Query(description="an opt-out's event id: the receipts after it, with non-inclusion proofs"),
]


@router.get(
    "/v1/subjects/{channel}/{address}/campaigns",
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="The campaign receipts that included the subject (inclusion proofs), or those "
    "after one of its opt-outs (non-inclusion proofs; an inclusion there is a violation)",
)
def subject_campaigns(
    channel: str,
    address: str,
    principal: ReceiptReader,
    services: ServicesDep,
    after_opt_out_id: Annotated[str | None, Query(alias="after_opt_out")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> dict[str, Any]:
    subject = resolve_subject(principal.tenant, channel, address)
    body: dict[str, Any] = {"subject_id": str(subject.id), "channel": subject.channel.value}
    receipts = services.campaign_receipts
    if after_opt_out_id is None:
        entries, next_cursor = including(receipts, subject, after_position=cursor or 0, limit=limit)
    else:
        try:
            opt_out, entries, next_cursor = after_opt_out(
                receipts,
                services.ledger,
                subject,
                after_opt_out_id,
                after_position=cursor or 0,
                limit=limit,
            )
        except SubjectNotFound as error:
            raise ApiError(404, error.code, error.message, "address") from None
        body["opt_out"] = opt_out_object(opt_out)
        body["violations"] = sum(1 for entry in entries if entry["included"])
    body["checkpoint"] = _attach_log(services, principal.tenant, entries)
    body["receipts"] = entries
    body["next_cursor"] = str(next_cursor) if next_cursor is not None else None
    return body


def _attach_log(services: Services, tenant: str, entries: list[dict[str, Any]]) -> Any:
    """Each receipt's leaf and inclusion proof in the Merkle log (``log``), against the
    latest signed checkpoint, which is returned; on the embedded default, receipts not
    sealed yet are sealed first, as for bundles."""

    def attach() -> Any:
        checkpoint = checkpoint_object(services.merkle)
        size = checkpoint["tree_size"] if checkpoint else 0
        versions = {entry["receipt"]["version"] for entry in entries}
        proofs = log_proofs(services.merkle, tenant, versions, size)
        for entry in entries:
            entry["log"] = proofs.get(entry["receipt"]["version"])
        return checkpoint

    checkpoint = attach()
    unsealed = any(entry["log"] is None for entry in entries)
    sealer = services.checkpoints
    if unsealed and sealer is not None and sealer.seal_now(services.settings.read_wait_seconds):
        checkpoint = attach()
    return checkpoint
