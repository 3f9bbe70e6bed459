"""An erasure in the fold: every purpose becomes ``erased`` until the person consents
again; older consent never brings the subject back. Pure, no storage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.crypto.chain import ChainHead, link
from ledger.domain.commands import RecordConsent
from ledger.domain.consent_status import ALL_PURPOSES, Status, SubjectState, apply
from ledger.domain.decisions import decide_record, decide_request, refuse_before_erasure
from ledger.domain.errors import SubjectErased
from ledger.domain.tenants.policy import TenantPolicy
from ledger.events import OptedIn, OptedOut, OptInRequested, PersonalDataErased
from projections.subject_snapshot import dump_state, load_state
from tests.support.builders import SUBJECT, at, chain_all, draft
from tests.support.commands import opt_in

M = ("marketing",)


def erase(state: SubjectState, minute: float) -> SubjectState:
    event = link(
        PersonalDataErased,
        ChainHead.of(state),
        recorded_at=at(minute),
        reason="gdpr_art17",
        requested_by="admin-key",
    )
    return apply(state, event)


def effective(state: SubjectState, purpose: str) -> Status:
    found = state.status_of(purpose)
    return found.status if found else Status.NONE


def test_an_erasure_makes_every_purpose_and_the_channel_erased() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=("marketing", "utility"))])
    state = erase(state, minute=5)
    assert {p: s.status for p, s in state.statuses().items()} == {
        "marketing": Status.ERASED,
        "utility": Status.ERASED,
        ALL_PURPOSES: Status.ERASED,
    }
    assert effective(state, "service") is Status.ERASED  # never asked about: erased too
    assert state.is_erased("marketing")
    assert not state.is_opted_out("marketing")


def test_an_erasure_outranks_a_source_clock_ahead_of_the_ledgers() -> None:
    # The form's clock ran 3 minutes ahead: its opt-in "occurred" after the erasure's record
    state, _ = chain_all([draft(OptedIn, minute=8, purposes=M)])
    state = erase(state, minute=5)
    assert effective(state, "marketing") is Status.ERASED
    assert state.erasure is not None
    assert state.erasure.since == at(8)


def test_an_erasure_drops_a_pending_request() -> None:
    state, _ = chain_all([draft(OptInRequested, purposes=M)])
    assert state.pending is not None
    state = erase(state, minute=1)
    assert state.pending is None
    assert effective(state, "marketing") is Status.ERASED


def test_only_consent_given_after_the_erasure_brings_a_purpose_back() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=M)])
    state = erase(state, minute=5)
    late, _ = chain_all([draft(OptedIn, minute=4, purposes=M)], state=state)  # delivered late
    assert effective(late, "marketing") is Status.ERASED
    again, _ = chain_all([draft(OptedIn, minute=6, purposes=M)], state=state)
    assert effective(again, "marketing") is Status.OPTED_IN
    assert effective(again, "utility") is Status.ERASED
    stopped, _ = chain_all([draft(OptedOut, minute=7, all_purposes=True)], state=again)
    assert effective(stopped, "utility") is Status.OPTED_OUT


def test_the_rules_refuse_requests_and_older_consent_for_an_erased_subject() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=M)])
    state = erase(state, minute=5)
    policy = TenantPolicy()
    with pytest.raises(SubjectErased):
        decide_request(
            state,
            purposes=M,
            occurred_at=at(6),
            source=opt_in("+14155550100").source,
            evidence=opt_in("+14155550100").evidence,
            now=at(6),
            policy=policy,
        )
    old = opt_in("+14155550100")
    with pytest.raises(SubjectErased):
        decide_record(state, _at(old, 4), now=at(6), policy=policy)
    assert decide_record(state, _at(old, 6), now=at(6), policy=policy)
    refuse_before_erasure(SubjectState(id=SUBJECT), at(0), what="row")  # never erased: fine


def test_a_stored_state_from_before_erasures_ended_targeting_still_loads() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=M)])
    erased = erase(state, minute=5)
    assert load_state(SUBJECT, dump_state(erased)) == erased
    old = dump_state(state).replace(',"erasure":null', "")
    assert '"erasure"' not in old
    assert load_state(SUBJECT, old) == state


def _at(command: RecordConsent, minute: float) -> RecordConsent:
    return replace(command, occurred_at=at(minute))
