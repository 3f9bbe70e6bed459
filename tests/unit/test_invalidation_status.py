"""An invalidation in the fold (a reassigned or disconnected number): every purpose is
``invalidated`` until a new opt-in that occurred after it. Pure, no storage."""

from __future__ import annotations

from dataclasses import replace

from ledger.domain.consent_status import ALL_PURPOSES, Status, SubjectState
from ledger.domain.drafts import Draft
from ledger.events import ConsentInvalidated, OptedIn, OptInRequested
from projections.subject_snapshot import dump_state, load_state
from tests.support.builders import SUBJECT, at, chain_all, draft

CHECK = {"data_source": "fcc_rnd", "queried_at": "2026-11-01T09:10:00.000000Z", "result": "yes"}


def invalidated(minute: float, purposes: tuple[str, ...] = ()) -> Draft:
    return replace(
        draft(ConsentInvalidated, minute=minute, purposes=purposes, all_purposes=True),
        own_fields={"reason": "number_reassigned", "number_check": CHECK},
    )


def effective(state: SubjectState, purpose: str) -> Status:
    found = state.status_of(purpose)
    return found.status if found else Status.NONE


def test_an_invalidation_ends_every_purpose_and_drops_the_pending_request() -> None:
    state, events = chain_all(
        [
            draft(OptedIn, purposes=("marketing", "utility")),
            draft(OptInRequested, minute=1, purposes=("service",)),
            invalidated(minute=5, purposes=("marketing", "utility")),
        ]
    )
    assert {p: s.status for p, s in state.statuses().items()} == {
        "marketing": Status.INVALIDATED,
        "service": Status.INVALIDATED,
        "utility": Status.INVALIDATED,
        ALL_PURPOSES: Status.INVALIDATED,
    }
    assert effective(state, "alerts") is Status.INVALIDATED  # never named: invalidated too
    assert state.pending is None
    document = events[-1].document()
    assert (document["reason"], document["number_check"]) == ("number_reassigned", CHECK)


def test_only_an_opt_in_that_occurred_after_the_invalidation_makes_a_purpose_eligible() -> None:
    state, _ = chain_all(
        [
            draft(OptedIn, purposes=("marketing", "utility")),
            invalidated(minute=5),
            draft(OptedIn, minute=3, purposes=("marketing",)),  # the previous holder, late
        ]
    )
    assert effective(state, "marketing") is Status.INVALIDATED
    state, _ = chain_all([draft(OptedIn, minute=9, purposes=("marketing",))], state=state)
    assert effective(state, "marketing") is Status.OPTED_IN  # the new holder opted in
    assert effective(state, "utility") is Status.INVALIDATED  # and only to what they named


def test_a_new_request_may_ask_the_new_holder() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=("marketing",)), invalidated(minute=5)])
    state, _ = chain_all([draft(OptInRequested, minute=6, purposes=("marketing",))], state=state)
    assert effective(state, "marketing") is Status.PENDING


def test_the_snapshot_keeps_the_invalidation() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=("marketing",)), invalidated(minute=5)])
    loaded = load_state(SUBJECT, dump_state(state))
    assert loaded == state
    assert loaded.invalidation is not None
    assert loaded.invalidation.since == at(5)
