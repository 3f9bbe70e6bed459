"""Scenario 3, batch ingest: ``POST /v1/events`` with 1,000 events per request.

Each request is a web form's batch (the README's opt-in event, 1,000 new subjects),
stored by the ledger in one transaction. ``CLIENTS`` keep-alive clients post back to
back, so the server always has the next batch waiting while one commits.
"""

from __future__ import annotations

import httpx

from bench.clients import Counter, Load, closed_loop
from bench.workload import BATCH_AREA, post_batch

BATCH = 1000
CLIENTS = 2


def run(base_url: str, key: str, *, seconds: float, indexes: Counter) -> Load:
    def operation(http: httpx.Client, index: int) -> int:
        return len(post_batch(http, BATCH_AREA, index * BATCH, BATCH))

    return closed_loop(
        base_url, key, threads=CLIENTS, seconds=seconds, operation=operation, indexes=indexes
    )
