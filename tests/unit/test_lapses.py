"""Consent that lapses: a grant older than the tenant's policy allows, not renewed,
becomes ``lapsed``. Pure, no storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from ledger.domain.consent_status import Status, SubjectState
from ledger.domain.errors import InvalidInput
from ledger.domain.lapses import add_months, check_lapse_months, decide_lapses
from ledger.domain.tenants.policy import TenantPolicy
from ledger.events import OptedIn, OptInAccepted, OptInRequested
from tests.support.builders import at, chain_all, draft

POLICY = TenantPolicy(lapse_months=MappingProxyType({"marketing": 1}))


def effective(state: SubjectState, purpose: str) -> Status:
    found = state.status_of(purpose)
    return found.status if found else Status.NONE


def lapse(state: SubjectState, now: datetime) -> SubjectState:
    drafts = decide_lapses(state, POLICY, now)
    return chain_all(drafts, state=state)[0] if drafts else state


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, 9, tzinfo=UTC), 1, datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2024, 1, 31, 9, tzinfo=UTC), 1, datetime(2024, 2, 29, 9, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), 18, datetime(2028, 5, 15, tzinfo=UTC)),
        (datetime(2026, 3, 15, tzinfo=UTC), -3, datetime(2025, 12, 15, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months) == expected


def test_a_grant_older_than_the_policy_lapses_once_at_its_moment() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=("marketing", "utility"))])
    assert decide_lapses(state, POLICY, add_months(at(0), 1) - timedelta(seconds=1)) == []
    state = lapse(state, add_months(at(0), 1) + timedelta(days=2))
    assert effective(state, "marketing") is Status.LAPSED
    assert effective(state, "utility") is Status.OPTED_IN  # no policy: never lapses
    lapsed = state.status_of("marketing")
    assert lapsed is not None
    assert lapsed.since == add_months(at(0), 1)  # it lapsed at its moment, not when seen
    assert decide_lapses(state, POLICY, add_months(at(0), 2)) == []  # once


def test_an_accepted_re_permission_request_renews_the_grant() -> None:
    state, _ = chain_all(
        [
            draft(OptedIn, purposes=("marketing",)),
            replace(draft(OptInRequested, minute=60 * 24 * 20, purposes=("marketing",))),
        ]
    )
    assert effective(state, "marketing") is Status.OPTED_IN  # the request downgrades nothing
    assert state.pending is not None
    accepted = draft(
        OptInAccepted,
        minute=60 * 24 * 21,
        purposes=("marketing",),
        request_id=state.pending.request_id,
    )
    state, _ = chain_all([accepted], state=state)
    now = add_months(at(0), 1) + timedelta(days=2)
    assert decide_lapses(state, POLICY, now) == []
    state = lapse(state, add_months(at(60 * 24 * 21), 1))
    assert effective(state, "marketing") is Status.LAPSED


def test_a_stale_lapse_leaves_a_renewed_grant_alone() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=("marketing",))])
    [stale] = decide_lapses(state, POLICY, add_months(at(0), 1))
    state, _ = chain_all([draft(OptedIn, minute=60, purposes=("marketing",))], state=state)
    state, _ = chain_all([stale], state=state)
    assert effective(state, "marketing") is Status.OPTED_IN


def test_a_lapsed_purpose_may_be_asked_again_and_granted_again() -> None:
    state, _ = chain_all([draft(OptedIn, purposes=("marketing",))])
    state = lapse(state, add_months(at(0), 2))
    later = 60 * 24 * 70
    state, _ = chain_all(
        [draft(OptInRequested, minute=later, purposes=("marketing",))], state=state
    )
    assert effective(state, "marketing") is Status.PENDING
    state, _ = chain_all([draft(OptedIn, minute=later + 1, purposes=("marketing",))], state=state)
    assert effective(state, "marketing") is Status.OPTED_IN


@pytest.mark.parametrize(
    ("months", "field"),
    [
        ({"marketing": 0}, "months.marketing"),
        ({"marketing": 121}, "months.marketing"),
        ({"Marketing!": 12}, "months.Marketing!"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_purpose(months: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_lapse_months(months)
    assert refused.value.field == field
