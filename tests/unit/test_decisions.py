"""The rules: request window, answers without a request, withdrawn purposes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.domain.commands import CaptureMethod, Evidence, RecordConsent, Source
from ledger.domain.decisions import decide_record, decide_request
from ledger.domain.errors import InvalidInput, RequestPending, RuleViolation
from ledger.domain.tenants.policy import TenantPolicy
from ledger.events import OptedIn, OptedOut, OptInAccepted, OptInRequested, OptInRequestExpired
from tests.support.builders import ADDRESS, at, chain_all, draft

POLICY = TenantPolicy()
M = ("marketing",)


def request_drafts(state, minute: float):  # type: ignore[no-untyped-def]
    return decide_request(
        state,
        purposes=M,
        occurred_at=at(minute),
        source=Source("api"),
        evidence=Evidence(method=CaptureMethod.API),
        now=at(minute),
        policy=POLICY,
    )


def command(kind: str, purposes: tuple[str, ...] = (), request_id=None) -> RecordConsent:  # type: ignore[no-untyped-def]
    return RecordConsent(
        tenant="acme",
        channel="whatsapp",
        address=ADDRESS,
        type=kind,
        occurred_at=at(30),
        source=Source("api"),
        evidence=Evidence(method=CaptureMethod.API),
        purposes=purposes,
        request_id=request_id,
    )


def test_a_second_request_inside_the_window_is_refused_saying_when_one_is_allowed() -> None:
    state, events = chain_all([draft(OptInRequested, purposes=M, expires_at=at(24 * 60))])
    with pytest.raises(RequestPending) as refused:
        request_drafts(state, minute=60)
    assert refused.value.retry_after == events[0].expires_at  # type: ignore[attr-defined]


def test_after_the_window_a_new_request_first_records_the_old_ones_expiry() -> None:
    state, events = chain_all([draft(OptInRequested, purposes=M, expires_at=at(24 * 60))])
    drafts = request_drafts(state, minute=24 * 60 + 1)
    assert [d.cls for d in drafts] == [OptInRequestExpired, OptInRequested]
    assert drafts[0].request_id == events[0].request_id
    assert drafts[1].expires_at == at(24 * 60 + 1) + timedelta(hours=24)


def test_a_request_for_a_withdrawn_purpose_is_refused() -> None:
    state, _ = chain_all([draft(OptedOut, all_purposes=True)])
    with pytest.raises(RuleViolation) as refused:
        request_drafts(state, minute=5)
    assert refused.value.code == "opted_out"


def test_an_acceptance_answers_the_pending_request_with_its_purposes() -> None:
    state, events = chain_all([draft(OptInRequested, purposes=("marketing", "utility"))])
    [decided] = decide_record(state, command("opt_in_accepted"), now=at(31), policy=POLICY)
    assert decided.cls is OptInAccepted
    assert decided.purposes == ("marketing", "utility")
    assert decided.request_id == events[0].request_id


def test_answers_without_a_request_are_recorded_as_explicit_opt_in_or_out() -> None:
    state, _ = chain_all([])
    [accepted] = decide_record(state, command("opt_in_accepted", M), now=at(31), policy=POLICY)
    [rejected] = decide_record(state, command("opt_in_rejected"), now=at(31), policy=POLICY)
    assert (accepted.cls, accepted.purposes) == (OptedIn, M)
    assert (rejected.cls, rejected.all_purposes) == (OptedOut, True)


def test_an_expiry_without_a_pending_request_is_refused() -> None:
    state, _ = chain_all([])
    with pytest.raises(RuleViolation) as refused:
        decide_record(state, command("opt_in_request_expired"), now=at(31), policy=POLICY)
    assert refused.value.code == "no_pending_request"


def test_an_opt_in_needs_purposes_and_an_opt_out_without_purposes_means_all() -> None:
    state, _ = chain_all([])
    with pytest.raises(InvalidInput) as refused:
        decide_record(state, command("opted_in"), now=at(31), policy=POLICY)
    assert refused.value.field == "purposes"
    [stop] = decide_record(state, command("opted_out"), now=at(31), policy=POLICY)
    assert stop.all_purposes
