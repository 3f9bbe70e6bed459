"""A held gateway opt-out in the fold: every purpose ``held`` while it lasts; a release
records the opt-out as of the gateway's time, a dismissal leaves the rest as it was.
Pure, no storage."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from ledger.domain.consent_status import ALL_PURPOSES, Status, SubjectState
from ledger.domain.drafts import Draft
from ledger.events import HeldOptOutDismissed, HeldOptOutReleased, OptedIn, OptOutHeld
from projections.subject_snapshot import dump_state, load_state
from tests.support.builders import SUBJECT, chain_all, draft

BURST = {"max_opt_outs": 2, "window_seconds": 60, "seen": 2}


def held(minute: float) -> Draft:
    return replace(
        draft(OptOutHeld, minute=minute, purposes=("marketing",), all_purposes=True),
        own_fields={"burst": BURST},
    )


def decided(
    cls: type[HeldOptOutReleased | HeldOptOutDismissed], hold_id: UUID, minute: float
) -> Draft:
    return replace(
        draft(cls, minute=minute, purposes=("marketing",), all_purposes=True),
        own_fields={"hold_id": hold_id},
    )


def statuses(state: SubjectState) -> dict[str, Status]:
    return {p: s.status for p, s in state.statuses().items()}


def test_a_hold_makes_every_purpose_held_and_the_snapshot_keeps_it() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=("marketing",)), held(minute=5)])
    assert statuses(state) == {"marketing": Status.HELD, ALL_PURPOSES: Status.HELD}
    decided_status = state.decided_status("marketing")
    assert decided_status is not None
    assert decided_status.status is Status.OPTED_IN  # beneath the hold, unchanged
    assert load_state(SUBJECT, dump_state(state)) == state


def test_a_release_opts_out_as_of_the_gateways_time() -> None:
    state, events = chain_all([draft(OptedIn, purposes=("marketing",)), held(minute=5)])
    hold_id = events[-1].event_id
    state, _ = chain_all([decided(HeldOptOutReleased, hold_id, minute=5)], state=state)
    assert statuses(state) == {"marketing": Status.OPTED_OUT, ALL_PURPOSES: Status.OPTED_OUT}
    assert state.hold is None


def test_a_dismissal_leaves_what_happened_meanwhile() -> None:
    state, events = chain_all([draft(OptedIn, purposes=("marketing",)), held(minute=5)])
    hold_id = events[-1].event_id
    state, _ = chain_all([draft(OptedIn, minute=7, purposes=("utility",))], state=state)
    assert statuses(state)["utility"] is Status.HELD  # held whatever happens meanwhile
    state, _ = chain_all([decided(HeldOptOutDismissed, hold_id, minute=9)], state=state)
    assert statuses(state) == {"marketing": Status.OPTED_IN, "utility": Status.OPTED_IN}


def test_a_decision_on_another_hold_changes_nothing() -> None:
    state, _ = chain_all([held(minute=5)])
    other = UUID(int=7)
    state, _ = chain_all([decided(HeldOptOutDismissed, other, minute=9)], state=state)
    assert state.hold is not None
