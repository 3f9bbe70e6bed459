"""Tenants' settings on the event loop: a burst that finds them stale reads them once, and
a database that is away is a quick 503.

Every inbound message needs its tenant's settings. They are kept for a second; when
they go stale under load, every request in flight used to start a read of its own on a
worker thread (a burst of 30 requests: 30 reads, and the thread pool full of them), each
retried through the library's pool: with the database away that took 3.6 s or more,
past the ~2 s in which the writer answers 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError, StoredEvent

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox
from ledger.domain.errors import Unavailable
from ledger.domain.tenants.policy import TenantPolicy


class CountedReads:
    """The store's asynchronous subject reads, counted and slowed so that callers
    overlap; ``away`` makes them fail as a stopped database does."""

    def __init__(self, ledger: ConsentLedger) -> None:
        self.read = ledger.store.select_subjects_async
        self.calls = 0
        self.away = False

    async def __call__(self, subject_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        self.calls += 1
        await asyncio.sleep(0.05)
        if self.away:
            raise OperationalError("connection refused")
        return await self.read(subject_ids)


async def burst(ledger: ConsentLedger, tenant: str, size: int) -> list[object]:
    return await asyncio.gather(
        *(ledger.policy_async(tenant) for _ in range(size)), return_exceptions=True
    )


def on_writer_loop(ledger: ConsentLedger, scenario: object) -> object:
    """Run ``scenario(…)`` as ``serve`` does: on the loop the writer is attached to."""

    async def run() -> object:
        ledger.writer.attach(asyncio.get_running_loop())
        try:
            return await scenario()  # type: ignore[operator]
        finally:
            await ledger.writer.aclose()

    return asyncio.run(run())


def test_a_burst_on_stale_settings_reads_them_once_and_sees_the_change(
    ledger: ConsentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = TenantSettingsBook(ledger, SecretBox(None))
    reads = CountedReads(ledger)
    monkeypatch.setattr(ledger.store, "select_subjects_async", reads)

    async def scenario() -> tuple[TenantPolicy, list[object]]:
        before = await ledger.policy_async("acme")
        await asyncio.to_thread(book.change_opt_out_scope, "acme", "sender", changed_by="t")
        return before, await burst(ledger, "acme", 30)

    before, policies = on_writer_loop(ledger, scenario)  # type: ignore[misc]

    assert before.opt_out_scope == "channel"
    assert reads.calls == 2  # the first read, then one for the whole burst
    assert all(isinstance(p, TenantPolicy) and p.opt_out_scope == "sender" for p in policies)


def test_with_the_database_away_the_waiters_get_503_and_the_next_call_reads_again(
    ledger: ConsentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = CountedReads(ledger)
    monkeypatch.setattr(ledger.store, "select_subjects_async", reads)

    async def scenario() -> tuple[list[object], TenantPolicy]:
        reads.away = True
        refused = await burst(ledger, "acme", 10)
        reads.away = False
        return refused, await ledger.policy_async("acme")

    refused, after = on_writer_loop(ledger, scenario)  # type: ignore[misc]

    assert all(isinstance(answer, Unavailable) for answer in refused)
    assert "settings could not be read" in str(refused[0])
    assert isinstance(after, TenantPolicy)
    assert reads.calls == 2


def test_off_the_writer_loop_a_burst_still_shares_one_read(
    ledger: ConsentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    read = ledger.policy_for

    def counted(tenant: str) -> TenantPolicy:
        calls.append(tenant)
        return read(tenant)

    monkeypatch.setattr(ledger, "policy_for", counted)

    policies = asyncio.run(burst(ledger, "acme", 20))

    assert calls == ["acme"]
    assert all(isinstance(p, TenantPolicy) for p in policies)
