"""The writer's state cache keeps states as compact tuples: it gives back exactly the state
it was given, whatever the history, and holds nothing the garbage collector must walk (a
full collection walked ~10 objects a cached subject, stopping the worker ~177 ms for a
full cache)."""

from __future__ import annotations

import dataclasses
import gc
from datetime import timedelta
from types import MappingProxyType
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from ledger.application.writer.compact_states import compact, expand
from ledger.application.writer.states import SubjectStates
from ledger.domain.consent_status import Hold, PendingRequest, PurposeStatus, Status, SubjectState
from ledger.events import (
    ConsentEvent,
    OptedIn,
    OptedOut,
    OptInAccepted,
    OptInRejected,
    OptInRequested,
)
from tests.support.builders import SUBJECT, at, chain_all, draft

KINDS: dict[str, type[ConsentEvent]] = {
    "request": OptInRequested,
    "accept": OptInAccepted,
    "reject": OptInRejected,
    "in": OptedIn,
    "out": OptedOut,
}


def decided(status: Status, minute: float, sender: str | None = None) -> PurposeStatus:
    return PurposeStatus(status, at(minute), uuid4(), int(minute), "keyword", "STOP", sender)


def everything_set() -> SubjectState:
    """A state with every field away from its default."""
    return SubjectState(
        id=SUBJECT,
        version=9,
        tenant="acme",
        channel="whatsapp",
        last_hash="ab" * 32,
        entries=MappingProxyType(
            {"marketing": decided(Status.OPTED_IN, 1), "utility": decided(Status.REJECTED, 2)}
        ),
        everything=decided(Status.OPTED_OUT, 3),
        pending=PendingRequest(uuid4(), uuid4(), ("service",), at(4), at(4) + timedelta(days=1)),
        erasure=decided(Status.ERASED, 5),
        senders=MappingProxyType(
            {
                "brand-a": MappingProxyType({"*": decided(Status.OPTED_OUT, 6, "brand-a")}),
                "brand-b": MappingProxyType({"marketing": decided(Status.OPTED_OUT, 7)}),
            }
        ),
        invalidation=decided(Status.INVALIDATED, 8),
        hold=Hold(uuid4(), 9, at(9), ("marketing",), True),
    )


def test_every_field_of_a_state_comes_back() -> None:
    state = everything_set()
    # If SubjectState gains a field, this state must set it (and compact_states keep it).
    defaults = SubjectState(id=uuid4())
    unset = [
        f.name
        for f in dataclasses.fields(SubjectState)
        if getattr(state, f.name) == getattr(defaults, f.name)
    ]
    assert unset == []
    assert expand(SUBJECT, compact(state)) == state


@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(KINDS)),
            st.integers(min_value=0, max_value=30),
            st.sets(st.sampled_from(["marketing", "utility"]), min_size=1),
            st.booleans(),
        ),
        max_size=8,
    )
)
def test_a_folded_history_comes_back_as_it_was(
    steps: list[tuple[str, int, set[str], bool]],
) -> None:
    drafts = [
        draft(KINDS[kind], minute=m, purposes=tuple(sorted(p)), all_purposes=kind == "out" and a)
        for kind, m, p, a in steps
    ]
    state, _ = chain_all(drafts)
    cache = SubjectStates(max_subjects=10)
    cache.keep({SUBJECT: state})
    assert cache.get(SUBJECT) == state


def test_a_full_cache_gives_the_collector_nothing_to_walk() -> None:
    states = {uuid4(): everything_set() for _ in range(2_000)}
    cache = SubjectStates(max_subjects=2_000)
    gc.collect()
    before = len(gc.get_objects())
    cache.keep(states)
    del states
    gc.collect()
    gc.collect()  # a tuple is untracked once a collection has seen it
    # As objects, these states were 29 tracked objects each.
    assert len(gc.get_objects()) - before < 100
    assert len(cache) == 2_000
