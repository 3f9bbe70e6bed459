"""Sender scope in the status fold: an opt-out scoped to one sender withdraws consent for
that sender only, stands until the same sender (or no sender in particular) hears
otherwise, and counts for every sender when the caller names none; states and events
recorded before senders existed read as before."""

from __future__ import annotations

from dataclasses import replace

from ledger.domain.commands import CaptureMethod, Evidence, Source
from ledger.domain.consent_status import ALL_PURPOSES, Status, SubjectState
from ledger.domain.drafts import Draft
from ledger.domain.sender_scope import CHANNEL, SENDER, scope_opt_outs
from ledger.domain.signals.decisions import IN_FORCE, RECORDED, decide_signal
from ledger.domain.signals.reports import ProviderSignal, SignalAction
from ledger.domain.tenants.policy import TenantPolicy
from ledger.events import OptedIn, OptedOut
from projections.subject_snapshot import dump_state, load_state
from tests.support.builders import ADDRESS, SUBJECT, at, chain_all, draft

M = ("marketing",)


def said(
    cls: type[OptedIn] | type[OptedOut], minute: float, sender: str | None, scope: str
) -> Draft:
    d = draft(cls, minute=minute, purposes=M, all_purposes=cls is OptedOut)
    d = replace(d, evidence=replace(d.evidence, sender=sender))
    [scoped] = scope_opt_outs([d], scope)
    return scoped


def status(state: SubjectState, sender: str | None) -> Status | None:
    found = state.status_for("marketing", sender)
    return found.status if found else None


def test_a_scoped_opt_out_withdraws_consent_for_its_sender_only() -> None:
    state, _ = chain_all([said(OptedIn, 0, None, SENDER), said(OptedOut, 1, "brand-a", SENDER)])
    assert status(state, "brand-a") is Status.OPTED_OUT
    assert status(state, "brand-b") is Status.OPTED_IN
    assert status(state, None) is Status.OPTED_OUT  # no sender named: the safer answer
    assert state.status_of("marketing").status is Status.OPTED_IN  # the channel's own
    assert state.statuses_for("brand-a")[ALL_PURPOSES].status is Status.OPTED_OUT


def test_an_opt_in_to_another_sender_does_not_lift_it_one_to_the_same_sender_does() -> None:
    drafts = [
        said(OptedIn, 0, None, SENDER),
        said(OptedOut, 1, "brand-a", SENDER),
        said(OptedIn, 2, "brand-b", SENDER),
    ]
    state, _ = chain_all(drafts)
    assert status(state, "brand-a") is Status.OPTED_OUT
    assert status(state, "brand-b") is Status.OPTED_IN
    state, _ = chain_all([*drafts, said(OptedIn, 3, "brand-a", SENDER)])
    assert status(state, "brand-a") is Status.OPTED_IN
    assert status(state, None) is Status.OPTED_IN


def test_with_the_default_channel_scope_an_opt_out_to_one_sender_covers_every_sender() -> None:
    state, events = chain_all(
        [said(OptedIn, 0, None, CHANNEL), said(OptedOut, 1, "brand-a", CHANNEL)]
    )
    assert events[1].evidence["sender"] == "brand-a"
    assert "opt_out_scope" not in events[1].evidence
    assert {status(state, s) for s in ("brand-a", "brand-b", None)} == {Status.OPTED_OUT}


def test_a_state_snapshot_of_the_old_shape_loads_and_keeps_the_new_shape() -> None:
    state, _ = chain_all([said(OptedIn, 0, None, SENDER), said(OptedOut, 1, "brand-a", SENDER)])
    again = load_state(SUBJECT, dump_state(state))
    assert again.senders == state.senders
    assert status(again, "brand-a") is Status.OPTED_OUT
    old = (
        '{"version": 1, "tenant": "acme", "channel": "whatsapp", "last_hash": "00", '
        '"entries": {"marketing": {"status": "opted_in", "since": "2026-11-01T09:00:00Z", '
        '"event_id": "6f1c2a9e-8d3b-5e47-9a0c-2b7d4e1f6a38", "version": 1, "method": "keyword", '
        '"keyword": null}}, "everything": null, "pending": null}'
    )
    loaded = load_state(SUBJECT, old)
    assert loaded.senders == {}
    assert status(loaded, "brand-a") is Status.OPTED_IN


def test_a_repeated_gateway_stop_for_the_same_sender_is_already_in_force() -> None:
    state, _ = chain_all([said(OptedIn, 0, None, SENDER), said(OptedOut, 1, "brand-a", SENDER)])

    def signal(sender: str) -> ProviderSignal:
        return ProviderSignal(
            tenant="acme",
            channel="whatsapp",
            address=ADDRESS,
            action=SignalAction.OPTED_OUT,
            occurred_at=at(2),
            source=Source(kind="whatsapp_status", id=f"wamid.{sender}:failed"),
            evidence=Evidence(method=CaptureMethod.PROVIDER_SIGNAL, sender=sender),
            purposes=M,
            unless_in_force=True,
        )

    scoped = TenantPolicy(opt_out_scope=SENDER)
    assert decide_signal(state, signal("brand-a"), scoped)[1] == IN_FORCE
    assert decide_signal(state, signal("brand-b"), scoped)[1] == RECORDED
    assert decide_signal(state, signal("brand-a"), TenantPolicy())[1] == RECORDED
