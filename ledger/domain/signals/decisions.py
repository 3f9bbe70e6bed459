"""Which events a gateway's signal records, given the subject's state. Pure, like
``ledger/decisions.py``: no I/O, drafts out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ledger.domain.consent_status import ALL_PURPOSES, Status, SubjectState
from ledger.domain.drafts import Draft
from ledger.domain.sender_scope import SENDER
from ledger.domain.signals.reports import ProviderSignal, SignalAction
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.times import format_time
from ledger.events import (
    ConfirmationSent,
    ConsentEvent,
    ConsentInvalidated,
    OptedIn,
    OptedOut,
    OptInRequestUndeliverable,
    OptOutHeld,
)

IN_FORCE = "in_force"
NOT_PENDING = "not_pending"
RECORDED = "recorded"
HELD = "held"  # the subject's opt-out is held for review already


def decide_signal(
    state: SubjectState,
    signal: ProviderSignal,
    policy: TenantPolicy,
    referenced: ConsentEvent | None = None,
    *,
    burst: Mapping[str, int] | None = None,
) -> tuple[list[Draft], str]:
    """The drafts for ``signal`` and why (``recorded``, ``in_force``, ``not_pending``,
    ``held``). ``burst``: the opt-out came in a spike, and is held for review."""
    base = Draft(
        cls=OptedOut,
        occurred_at=signal.occurred_at,
        source=signal.source,
        evidence=signal.evidence,
    )
    if signal.action is SignalAction.OPTED_OUT:
        scoped_to = signal.evidence.sender if policy.opt_out_scope == SENDER else None
        if scoped_to is not None:
            # A stop that will be scoped to its sender: in force when it is for that sender.
            def opted_out(purpose: str) -> bool:
                found = state.status_for(purpose, scoped_to)
                return found is not None and found.status is Status.OPTED_OUT

            everything_out = opted_out(ALL_PURPOSES)
        else:
            opted_out = state.is_opted_out
            everything = state.everything
            everything_out = everything is not None and everything.status is Status.OPTED_OUT
        if signal.purposes:
            if signal.unless_in_force and all(opted_out(p) for p in signal.purposes):
                return [], IN_FORCE
            return _held_or([replace(base, purposes=signal.purposes)], state, burst)
        if signal.unless_in_force and everything_out and all(opted_out(p) for p in state.entries):
            return [], IN_FORCE
        draft = replace(base, purposes=state.known_purposes, all_purposes=True)
        return _held_or([draft], state, burst)
    if signal.action is SignalAction.OPTED_IN:
        purposes = signal.purposes or state.known_purposes or policy.keyword_purposes
        if signal.unless_in_force and all(_is_opted_in(state, p) for p in purposes):
            return [], IN_FORCE
        return [replace(base, cls=OptedIn, purposes=purposes)], RECORDED
    if signal.action is SignalAction.INVALIDATED:
        wide = state.channel_wide()
        if (
            signal.unless_in_force
            and wide is not None
            and wide.status is Status.INVALIDATED
            and not any(_is_opted_in(state, p) for p in state.entries)
        ):
            return [], IN_FORCE
        evidence = signal.evidence
        check = {
            "data_source": evidence.gateway or signal.source.kind,
            "queried_at": format_time(signal.occurred_at),
            "result": evidence.gateway_error or evidence.gateway_status or "",
        }
        draft = replace(
            base,
            cls=ConsentInvalidated,
            purposes=state.known_purposes,
            all_purposes=True,
            own_fields={"reason": signal.reason, "number_check": check},
        )
        return [draft], RECORDED
    if signal.action is SignalAction.UNDELIVERABLE:
        pending = state.pending
        if pending is None or pending.event_id != signal.refers_to:
            return [], NOT_PENDING
        draft = replace(
            base,
            cls=OptInRequestUndeliverable,
            purposes=pending.purposes,
            request_id=pending.request_id,
        )
        return [draft], RECORDED
    if referenced is None:  # a confirmation of an event the subject does not have
        return [], NOT_PENDING
    draft = replace(
        base,
        cls=ConfirmationSent,
        purposes=tuple(referenced.purposes),
        all_purposes=referenced.all_purposes,
    )
    return [draft], RECORDED


def _held_or(
    drafts: list[Draft], state: SubjectState, burst: Mapping[str, int] | None
) -> tuple[list[Draft], str]:
    """The opt-out as decided, or, in a burst, held for review (once per subject)."""
    if burst is None:
        return drafts, RECORDED
    if state.hold is not None:
        return [], HELD
    return [replace(d, cls=OptOutHeld, own_fields={"burst": dict(burst)}) for d in drafts], RECORDED


def _is_opted_in(state: SubjectState, purpose: str) -> bool:
    effective = state.status_of(purpose)
    return effective is not None and effective.status is Status.OPTED_IN
