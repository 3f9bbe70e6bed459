"""``/v1/held-opt-outs``: gateway opt-outs a tenant's burst guard held for review (admin).

``GET`` lists the held subjects (from ``consent_status``: every purpose ``held``, so
no campaign reaches them meanwhile); ``POST …/{channel}/{address}/release`` records the
opt-out as the gateway reported it, ``…/dismiss`` ends the hold with nothing else;
``POST /v1/held-opt-outs/release`` (or ``/dismiss``) decides many addresses at once
(a whole spike), each on its own. Each decision is an event in the subject's chain,
naming the admin's key.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import Admin, ServicesDep
from api.schemas import ErrorDetail, ErrorOut, Input, RecordedOut
from api.text_fields import Text
from ledger.application.signals.holds import HoldDecision, decide_hold, decide_holds
from ledger.domain.addresses import parse_channel
from ledger.domain.times import format_time
from projections.consent_status.holds import held
from projections.consent_status.projection import ConsentStatusProjection

router = APIRouter(prefix="/v1/held-opt-outs", tags=["held opt-outs"])

MAX_PAGE = 10_000
MAX_DECISIONS = 10_000


class HeldOut(BaseModel):
    subject_id: UUID
    channel: str
    address: str | None
    held_since: str
    hold_id: UUID


class HeldListOut(BaseModel):
    held: list[HeldOut]
    next_after: UUID | None = None
    position: int


class DecisionOut(RecordedOut):
    read_models_updated: bool


class DecisionsIn(Input):
    channel: Text = Field(max_length=64)
    addresses: list[Annotated[Text, Field(max_length=64)]] = Field(
        min_length=1, max_length=MAX_DECISIONS
    )


class DecisionItemOut(BaseModel):
    address: str
    decided: RecordedOut | None = None
    error: ErrorDetail | None = None


class DecisionsOut(BaseModel):
    results: list[DecisionItemOut]
    decided: int
    position: int = Field(description="the last position recorded (0: none)")
    read_models_updated: bool


@router.get(
    "",
    response_model=HeldListOut,
    responses={422: {"model": ErrorOut}},
    summary="Subjects whose gateway opt-out is held for review (no messages meanwhile)",
)
def list_held(
    principal: Admin,
    services: ServicesDep,
    channel: Annotated[str | None, Query(description="one channel only")] = None,
    after: Annotated[UUID | None, Query(description="next_after of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
    wait_for: Annotated[
        int | None, Query(alias="after_position", ge=0, description="wait for this position")
    ] = None,
) -> HeldListOut:
    view = services.consent_status
    if not isinstance(view, ConsentStatusProjection):
        raise RuntimeError("the consent_status read model is not available in this process")
    services.wait_for(wait_for)
    position = view.applied_position()
    checked = parse_channel(channel).value if channel is not None else None
    rows = held(view.model, principal.tenant, channel=checked, after=after, limit=limit)
    return HeldListOut(
        held=[
            HeldOut(
                subject_id=r.subject_id,
                channel=r.channel,
                address=r.address,
                held_since=format_time(r.held_since),
                hold_id=r.hold_id,
            )
            for r in rows
        ],
        next_after=rows[-1].subject_id if len(rows) == limit else None,
        position=position,
    )


def _decide(
    decision: HoldDecision, channel: str, address: str, principal: Admin, services: ServicesDep
) -> DecisionOut:
    answer = decide_hold(
        services.ledger,
        principal.tenant,
        channel,
        address,
        decision,
        decided_by=principal.key_id,
    )
    applied = services.consent_status.wait_for(answer.position, services.settings.read_wait_seconds)
    return DecisionOut.of(answer, read_models_updated=applied)


@router.post(
    "/{channel}/{address}/release",
    response_model=DecisionOut,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Release the held opt-out: recorded as the gateway reported it",
)
def release(channel: str, address: str, principal: Admin, services: ServicesDep) -> DecisionOut:
    return _decide(HoldDecision.RELEASE, channel, address, principal, services)


@router.post(
    "/{channel}/{address}/dismiss",
    response_model=DecisionOut,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Dismiss the held opt-out (e.g. a gateway's wrong error code): the hold ends",
)
def dismiss(channel: str, address: str, principal: Admin, services: ServicesDep) -> DecisionOut:
    return _decide(HoldDecision.DISMISS, channel, address, principal, services)


def _decide_many(
    decision: HoldDecision, body: DecisionsIn, principal: Admin, services: ServicesDep
) -> DecisionsOut:
    channel = parse_channel(body.channel).value
    outcomes = decide_holds(
        services.ledger,
        principal.tenant,
        channel,
        body.addresses,
        decision,
        decided_by=principal.key_id,
    )
    results: list[DecisionItemOut] = []
    position = 0
    for outcome in outcomes:
        if outcome.recorded is not None:
            position = max(position, outcome.recorded.position)
            decided = RecordedOut.of(outcome.recorded)
            results.append(DecisionItemOut(address=outcome.address, decided=decided))
        elif outcome.error is not None:
            error = outcome.error
            detail = ErrorDetail(code=error.code, message=error.message, field=error.field)
            results.append(DecisionItemOut(address=outcome.address, error=detail))
    applied = position == 0 or services.consent_status.wait_for(
        position, services.settings.read_wait_seconds
    )
    return DecisionsOut(
        results=results,
        decided=sum(1 for r in results if r.decided is not None),
        position=position,
        read_models_updated=applied,
    )


@router.post(
    "/release",
    response_model=DecisionsOut,
    responses={422: {"model": ErrorOut}},
    summary="Release the held opt-outs of many addresses (each decided on its own)",
)
def release_many(body: DecisionsIn, principal: Admin, services: ServicesDep) -> DecisionsOut:
    return _decide_many(HoldDecision.RELEASE, body, principal, services)


@router.post(
    "/dismiss",
    response_model=DecisionsOut,
    responses={422: {"model": ErrorOut}},
    summary="Dismiss the held opt-outs of many addresses (each decided on its own)",
)
def dismiss_many(body: DecisionsIn, principal: Admin, services: ServicesDep) -> DecisionsOut:
    return _decide_many(HoldDecision.DISMISS, body, principal, services)
