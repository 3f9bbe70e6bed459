"""Tenants' settings on the event loop: a burst that finds them stale reads them once.

Every inbound message needs its tenant's settings. They are kept for a second; when
they go stale under load, every request in flight used to start a read of its own on a
worker thread (a burst of 30 requests: 30 reads, and the thread pool full of them).
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox
from ledger.domain.errors import Unavailable
from ledger.domain.tenants.policy import TenantPolicy


class CountedReads:
    """``ledger.policy_for`` with its calls counted, slowed so that callers overlap."""

    def __init__(self, ledger: ConsentLedger, *, fail_first: bool = False) -> None:
        self.read = ledger.policy_for
        self.calls = 0
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def __call__(self, tenant: str) -> TenantPolicy:
        with self.lock:
            self.calls += 1
            fail = self.fail_first and self.calls == 1
        threading.Event().wait(0.05)
        if fail:
            raise Unavailable("the database is away")
        return self.read(tenant)


async def burst(ledger: ConsentLedger, tenant: str, size: int) -> list[object]:
    return await asyncio.gather(
        *(ledger.policy_async(tenant) for _ in range(size)), return_exceptions=True
    )


def test_a_burst_on_stale_settings_reads_them_once_and_sees_the_change(
    ledger: ConsentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = TenantSettingsBook(ledger, SecretBox(None))
    assert asyncio.run(ledger.policy_async("acme")).opt_out_scope == "channel"
    book.change_opt_out_scope("acme", "sender", changed_by="test")  # forgets the cached one
    reads = CountedReads(ledger)
    monkeypatch.setattr(ledger, "policy_for", reads)

    policies = asyncio.run(burst(ledger, "acme", 30))

    assert reads.calls == 1
    assert all(isinstance(p, TenantPolicy) and p.opt_out_scope == "sender" for p in policies)


def test_a_failed_read_answers_its_waiters_and_the_next_call_reads_again(
    ledger: ConsentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = CountedReads(ledger, fail_first=True)
    monkeypatch.setattr(ledger, "policy_for", reads)

    async def scenario() -> tuple[list[object], TenantPolicy]:
        first = await burst(ledger, "acme", 10)
        return first, await ledger.policy_async("acme")

    first, after = asyncio.run(scenario())

    assert all(isinstance(answer, Unavailable) for answer in first)
    assert isinstance(after, TenantPolicy)
    assert reads.calls == 2
