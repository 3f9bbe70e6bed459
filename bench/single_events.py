"""Scenario 4, single events: 32 clients each posting one inbound message at a time.

``POST /v1/messages/inbound`` with STOP, START and their variants, each from a new
person, so every request records one event (and its confirmation in the outbox). The
server group-commits concurrent requests: many requests share one transaction.
"""

from __future__ import annotations

import httpx

from bench.clients import Counter, Load, closed_loop
from bench.workload import SINGLE_AREA, post_inbound

CLIENTS = 32


def run(base_url: str, key: str, *, seconds: float, indexes: Counter) -> Load:
    def operation(http: httpx.Client, index: int) -> int:
        post_inbound(http, SINGLE_AREA, index)
        return 1

    return closed_loop(
        base_url, key, threads=CLIENTS, seconds=seconds, operation=operation, indexes=indexes
    )
