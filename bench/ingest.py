"""Scenario 3, batch ingest: ``POST /v1/events`` with 1,000 events per request.

Each request is a web form's batch (the README's opt-in event, 1,000 new subjects),
stored by the ledger in one transaction. ``CLIENTS`` keep-alive clients post back to
back, two for each of serve's worker processes (a keep-alive connection stays with one
worker): so each worker's writer has the next batch to decide while one commits. With
one client a worker, a worker sat idle through each commit and the answer's round trip
(measured side by side, four fresh runs: 2 clients 3,500-4,200 events/s with serve at
~1.4 cores, 4 clients 4,500-4,700 at ~1.6).
"""

from __future__ import annotations

import httpx

from bench.clients import Counter, Load, closed_loop
from bench.workload import BATCH_AREA, post_batch

BATCH = 1000
CLIENTS = 4


def run(base_url: str, key: str, *, seconds: float, indexes: Counter) -> Load:
    def operation(http: httpx.Client, index: int) -> int:
        return len(post_batch(http, BATCH_AREA, index * BATCH, BATCH))

    return closed_loop(
        base_url, key, threads=CLIENTS, seconds=seconds, operation=operation, indexes=indexes
    )
