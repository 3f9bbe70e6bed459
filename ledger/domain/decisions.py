"""The rules of the domain: which events a command records, given a subject's state.

Pure functions of (state, command, time, policy); no I/O. They return drafts, which the
application seals into the subject's hash chain.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import uuid4

from ledger.domain.commands import (
    CaptureMethod,
    Evidence,
    Notice,
    ReceiveMessage,
    RecordConsent,
    Source,
)
from ledger.domain.consent_status import SubjectState
from ledger.domain.drafts import Draft
from ledger.domain.errors import InvalidInput, RequestPending, RuleViolation, SubjectErased
from ledger.domain.keywords import Intent, Match
from ledger.domain.tenants.first_message import FirstMessageRequest
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.times import format_time
from ledger.events import (
    CONSENT_EVENT_TYPES,
    ConfirmationSent,
    ConsentEvent,
    ConsentInvalidated,
    OptedIn,
    OptedOut,
    OptInAccepted,
    OptInRejected,
    OptInRequested,
    OptInRequestExpired,
    OptInRequestUndeliverable,
)

LEDGER_SOURCE = Source(kind="ledger")


def decide_record(
    state: SubjectState, command: RecordConsent, *, now: datetime, policy: TenantPolicy
) -> list[Draft]:
    """Drafts for one event reported by a source (an answer never gets dropped)."""
    cls = CONSENT_EVENT_TYPES[command.type]
    base = Draft(
        cls=cls,
        occurred_at=command.occurred_at,
        source=command.source,
        evidence=command.evidence,
        purposes=command.purposes,
        request_id=command.request_id,
    )
    if cls is OptInRequested:
        if not command.purposes:
            raise _purposes_required()
        return decide_request(
            state,
            purposes=command.purposes,
            occurred_at=command.occurred_at,
            source=command.source,
            evidence=command.evidence,
            now=now,
            policy=policy,
        )
    pending = state.pending
    answers = (OptInAccepted, OptInRejected, OptInRequestExpired, OptInRequestUndeliverable)
    stale = pending is None or pending.request_id != command.request_id
    if command.request_id is not None and stale and cls in answers:
        raise RuleViolation(
            f"request {command.request_id} is not pending for this subject",
            field="request_id",
            code="no_pending_request",
        )
    if cls in answers:
        if pending is not None:
            return [replace(base, purposes=pending.purposes, request_id=pending.request_id)]
        if cls is OptInAccepted:
            cls = OptedIn
        elif cls is OptInRejected:
            cls = OptedOut
        else:
            raise RuleViolation(
                "no opt-in request is pending for this subject",
                field="type",
                code="no_pending_request",
            )
        base = replace(base, cls=cls, request_id=None)
    if cls is OptedOut:
        return [replace(base, all_purposes=not command.purposes)]
    if cls is ConsentInvalidated:
        return [invalidation(state, command)]
    if cls is OptedIn and not command.purposes:
        raise _purposes_required()
    if cls is OptedIn:
        refuse_before_erasure(state, command.occurred_at, what="opt-in")
    if cls is ConfirmationSent or cls is OptedIn:
        return [base]
    raise AssertionError(f"unhandled event type {command.type}")  # pragma: no cover


def decide_request(
    state: SubjectState,
    *,
    purposes: tuple[str, ...],
    occurred_at: datetime,
    source: Source,
    evidence: Evidence,
    now: datetime,
    policy: TenantPolicy,
) -> list[Draft]:
    """Drafts for a new opt-in request; refused while one is pending inside the window."""
    drafts: list[Draft] = []
    pending = state.pending
    if pending is not None:
        if now < pending.expires_at:
            raise RequestPending(
                "an opt-in request is pending for this subject; a new one is allowed from "
                f"{format_time(pending.expires_at)}",
                retry_after=pending.expires_at,
            )
        drafts.append(
            Draft(
                cls=OptInRequestExpired,
                occurred_at=pending.expires_at,
                source=LEDGER_SOURCE,
                evidence=Evidence(method=CaptureMethod.API, recorded_by="ledger"),
                purposes=pending.purposes,
                request_id=pending.request_id,
            )
        )
    if state.hold is not None:
        raise RuleViolation(
            "a gateway's opt-out of this subject is held for review; no request is sent "
            "until an admin releases or dismisses it",
            field="address",
            code="held_for_review",
        )
    erased = [p for p in purposes if state.is_erased(p)]
    if erased:
        raise SubjectErased(
            "the subject's personal data was erased; an opt-in request is refused (the "
            "person must opt in again themselves)",
            field="address",
        )
    withdrawn = [p for p in purposes if state.is_opted_out(p)]
    if withdrawn:
        raise RuleViolation(
            f"the subject opted out of {', '.join(withdrawn)}; an opt-in request for "
            "withdrawn purposes is refused (the person must opt in again themselves)",
            field="purposes",
            code="opted_out",
        )
    drafts.append(
        Draft(
            cls=OptInRequested,
            occurred_at=occurred_at,
            source=source,
            evidence=evidence,
            purposes=purposes,
            request_id=uuid4(),
            expires_at=now + policy.request_window,
        )
    )
    return drafts


def classify_message(state: SubjectState, message: ReceiveMessage, policy: TenantPolicy) -> Match:
    pending = state.pending is not None
    if message.button_payload:  # a payload id the tenant mapped decides first
        mapped = policy.button_match(message.button_payload, pending=pending)
        if mapped is not None:
            return mapped
    match = policy.rules.classify(message.text or "", pending=pending)
    if match.intent is Intent.NONE and message.button_payload:
        match = policy.rules.classify(message.button_payload, pending=pending)
    return match


def decide_message(
    state: SubjectState, message: ReceiveMessage, match: Match, *, policy: TenantPolicy
) -> list[Draft]:
    """Drafts for an inbound message classified as ``match`` (none for help or no match)."""
    evidence = Evidence(
        method=CaptureMethod.BUTTON if message.button_payload else CaptureMethod.KEYWORD,
        text=message.text if message.text is not None else message.button_payload,
        keyword=match.keyword,
        match=match.match.value if match.match else None,
        button_payload=message.button_payload,
        profile_name=message.profile_name,
        recorded_by=message.recorded_by,
        rules_version=policy.version,
        sender=message.sender,
    )
    source = Source(kind=message.source_kind, id=message.message_id)
    base = Draft(cls=OptedOut, occurred_at=message.occurred_at, source=source, evidence=evidence)
    pending = state.pending
    if match.intent is Intent.OPT_OUT:
        if match.purposes is not None:
            return [replace(base, purposes=match.purposes)]
        return [replace(base, purposes=state.known_purposes, all_purposes=True)]
    if match.intent is Intent.OPT_IN:
        purposes = state.known_purposes or policy.keyword_purposes
        return [replace(base, cls=OptedIn, purposes=purposes)]
    if match.intent in (Intent.ACCEPT, Intent.REJECT) and pending is not None:
        cls: type[ConsentEvent] = OptInAccepted if match.intent is Intent.ACCEPT else OptInRejected
        return [replace(base, cls=cls, purposes=pending.purposes, request_id=pending.request_id)]
    return []


def request_evidence(
    template: Notice,
    business_name: str,
    recorded_by: str | None,
    method: str = CaptureMethod.API.value,
) -> Evidence:
    return Evidence(
        method=method,
        notice=template,
        business_name=business_name,
        recorded_by=recorded_by,
    )


def decide_first_message(
    state: SubjectState,
    message: ReceiveMessage,
    match: Match,
    ask: FirstMessageRequest | None,
    *,
    now: datetime,
    policy: TenantPolicy,
) -> list[Draft]:
    """The opt-in request a subject's very first message gets, if the tenant asks for one.

    Only a message that matched no keyword, from a subject with no history; the request
    follows the rules of every request (``decide_request``). Its source is the message,
    so a redelivered message asks once, and its evidence names the message."""
    if ask is None or match.intent is not Intent.NONE or state.version != 0:
        return []
    evidence = Evidence(
        method=CaptureMethod.FIRST_MESSAGE,
        text=message.text if message.text is not None else message.button_payload,
        notice=ask.template,
        business_name=ask.business_name,
        profile_name=message.profile_name,
        recorded_by=message.recorded_by,
        rules_version=policy.version,
        triggered_by=message.message_id,
        sender=message.sender,
    )
    try:
        return decide_request(
            state,
            purposes=ask.purposes,
            occurred_at=message.occurred_at,
            source=Source(kind=message.source_kind, id=message.message_id),
            evidence=evidence,
            now=now,
            policy=policy,
        )
    except RuleViolation:  # a rule refuses a request now: the message records nothing
        return []


def refuse_before_erasure(state: SubjectState, occurred_at: datetime, *, what: str) -> None:
    """Refuse consent that occurred before the subject's erasure: only consent given
    after it (the person opting in again) brings an erased subject back."""
    erasure = state.erasure
    if erasure is not None and occurred_at <= erasure.since:
        raise SubjectErased(
            f"the subject's personal data was erased at {format_time(erasure.since)}, after "
            f"this {what}; only consent given after the erasure is recorded",
            field="occurred_at",
        )


def invalidation(state: SubjectState, command: RecordConsent) -> Draft:
    """A ``ConsentInvalidated``: every purpose on record, and the channel-wide status."""
    check = command.number_check
    if command.reason is None or check is None:  # check_record refuses these first
        raise InvalidInput("a reason and a number check are required", field="reason")
    return Draft(
        cls=ConsentInvalidated,
        occurred_at=command.occurred_at,
        source=command.source,
        evidence=command.evidence,
        purposes=state.known_purposes,
        all_purposes=True,
        own_fields={
            "reason": command.reason,
            "number_check": {
                "data_source": check.data_source,
                "queried_at": format_time(check.queried_at),
                "result": check.result,
            },
        },
    )


def _purposes_required() -> InvalidInput:
    return InvalidInput(
        "at least one purpose is required for this event type",
        field="purposes",
        code="purposes_required",
    )
