"""Status per purpose is a pure fold of the subject's events (DESIGN.md §2)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.consent_status import ALL_PURPOSES, Status, fold
from ledger.events import (
    OptedIn,
    OptedOut,
    OptInAccepted,
    OptInRejected,
    OptInRequested,
    OptInRequestExpired,
    OptInRequestUndeliverable,
)
from tests.support.builders import SUBJECT, chain_all, draft

M = ("marketing",)


def status(drafts: list, purpose: str = "marketing") -> Status:  # type: ignore[type-arg]
    state, _ = chain_all(drafts)
    effective = state.status_of(purpose)
    return effective.status if effective else Status.NONE


def test_given_a_request_when_it_is_accepted_then_the_subject_is_opted_in() -> None:
    state, events = chain_all([draft(OptInRequested, purposes=M)])
    assert state.status_of("marketing").status is Status.PENDING  # type: ignore[union-attr]
    request_id = events[0].request_id
    state, _ = chain_all(
        [draft(OptInAccepted, minute=1, purposes=M, request_id=request_id)], state=state
    )
    assert state.status_of("marketing").status is Status.OPTED_IN  # type: ignore[union-attr]
    assert state.pending is None


def test_a_request_ends_rejected_expired_or_undeliverable() -> None:
    for answer, expected in [
        (OptInRejected, Status.REJECTED),
        (OptInRequestExpired, Status.EXPIRED),
        (OptInRequestUndeliverable, Status.UNDELIVERABLE),
    ]:
        state, events = chain_all([draft(OptInRequested, purposes=M)])
        request_id = events[0].request_id
        state, _ = chain_all(
            [draft(answer, minute=1, purposes=M, request_id=request_id)], state=state
        )
        assert state.status_of("marketing").status is expected  # type: ignore[union-attr]
        assert state.pending is None


def test_plain_stop_withdraws_every_purpose_even_ones_never_asked_about() -> None:
    drafts = [
        draft(OptedIn, purposes=("marketing", "utility")),
        draft(OptedOut, minute=1, all_purposes=True),
    ]
    assert status(drafts, "marketing") is Status.OPTED_OUT
    assert status(drafts, "utility") is Status.OPTED_OUT
    assert status(drafts, "service") is Status.OPTED_OUT
    state, _ = chain_all(drafts)
    assert set(state.statuses()) == {"marketing", "utility", ALL_PURPOSES}


def test_a_scoped_stop_withdraws_only_what_it_names() -> None:
    drafts = [
        draft(OptedIn, purposes=("marketing", "utility")),
        draft(OptedOut, minute=1, purposes=M),
    ]
    assert status(drafts, "marketing") is Status.OPTED_OUT
    assert status(drafts, "utility") is Status.OPTED_IN


def test_a_re_opt_in_after_stop_is_an_ordinary_opt_in_for_what_it_names() -> None:
    drafts = [
        draft(OptedIn, purposes=("marketing", "utility")),
        draft(OptedOut, minute=1, all_purposes=True),
        draft(OptedIn, minute=2, purposes=M),
    ]
    assert status(drafts, "marketing") is Status.OPTED_IN
    assert status(drafts, "utility") is Status.OPTED_OUT


def test_a_late_older_event_is_kept_but_never_overrides_a_newer_state() -> None:
    # The STOP happened at minute 10; a gateway delivers an opt-in from minute 5 afterwards.
    drafts = [
        draft(OptedOut, minute=10, all_purposes=True),
        draft(OptedIn, minute=5, purposes=M),
    ]
    state, events = chain_all(drafts)
    assert state.version == 2
    assert state.status_of("marketing").status is Status.OPTED_OUT  # type: ignore[union-attr]
    assert state.status_of("marketing").event_id == events[0].event_id  # type: ignore[union-attr]


def test_a_new_request_never_downgrades_a_given_consent() -> None:
    drafts = [draft(OptedIn, purposes=M), draft(OptInRequested, minute=1, purposes=M)]
    assert status(drafts) is Status.OPTED_IN


def test_an_opt_out_closes_the_pending_request() -> None:
    state, _ = chain_all(
        [draft(OptInRequested, purposes=M), draft(OptedOut, minute=1, all_purposes=True)]
    )
    assert state.pending is None


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["in", "out", "out_all"]),
        st.integers(min_value=0, max_value=50),  # minute it occurred
        st.sets(st.sampled_from(["marketing", "utility", "service"]), min_size=1),
    ),
    min_size=1,
    max_size=25,
)


@given(events=EVENTS, purpose=st.sampled_from(["marketing", "utility", "service", "alerts"]))
def test_the_status_is_decided_by_the_event_that_occurred_last(events: list, purpose: str) -> None:  # type: ignore[type-arg]
    drafts = []
    for kind, minute, purposes in events:
        if kind == "in":
            drafts.append(draft(OptedIn, minute=minute, purposes=tuple(sorted(purposes))))
        elif kind == "out":
            drafts.append(draft(OptedOut, minute=minute, purposes=tuple(sorted(purposes))))
        else:
            drafts.append(draft(OptedOut, minute=minute, all_purposes=True))
    # Reference model: among the events that touch the purpose, the one that occurred last
    # (ties: the one recorded last) decides.
    touching = [
        (minute, index, kind)
        for index, (kind, minute, purposes) in enumerate(events)
        if kind == "out_all" or purpose in purposes
    ]
    expected = Status.NONE
    if touching:
        expected = Status.OPTED_IN if max(touching)[2] == "in" else Status.OPTED_OUT
    assert status(drafts, purpose) is expected


@given(events=EVENTS)
def test_folding_is_deterministic_and_tracks_the_chain(events: list) -> None:  # type: ignore[type-arg]
    drafts = [
        draft(OptedIn if kind == "in" else OptedOut, minute=m, purposes=tuple(sorted(p)))
        for kind, m, p in events
    ]
    state, sealed = chain_all(drafts)
    again = fold(SUBJECT, sealed)
    assert again == state
    assert state.version == len(sealed)
    assert state.last_hash == sealed[-1].hash


def test_an_answer_resolves_its_request_even_when_the_gateway_clock_is_behind() -> None:
    state, events = chain_all([draft(OptInRequested, minute=10, purposes=M)])
    state, _ = chain_all(
        [draft(OptInAccepted, minute=9, purposes=M, request_id=events[0].request_id)], state=state
    )
    assert state.status_of("marketing").status is Status.OPTED_IN  # type: ignore[union-attr]
    # …but an answer never overrides a later decision by another event.
    state, events = chain_all([draft(OptInRequested, minute=10, purposes=M)])
    state, _ = chain_all(
        [
            draft(OptedOut, minute=12, all_purposes=True),
            draft(OptInAccepted, minute=11, purposes=M, request_id=events[0].request_id),
        ],
        state=state,
    )
    assert state.status_of("marketing").status is Status.OPTED_OUT  # type: ignore[union-attr]
