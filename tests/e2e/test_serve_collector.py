"""``serve``'s garbage collector does not walk the requests in flight every few hundred
allocations: a batch of 1,000 events is ~35,000 live objects from its body to its answer."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ledger.runtime.collector import YOUNG_COLLECTION_EVERY
from tests.e2e.conftest import Api
from tests.support.event_batches import opt_in_batch


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of each collection that ends while the test runs."""
    seen: list[int] = []
    thresholds = gc.get_threshold()

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*thresholds)


def test_a_batch_of_1000_events_costs_serve_a_few_collections(
    collections: list[int], api: Api
) -> None:
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY  # set as serve started
    body = opt_in_batch("gc", 1000)
    collections.clear()
    answer = api.client.post("/v1/events", headers=api.headers("ingest"), json=body)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["results"]) == 1000
    # One or two; with Python's default (a young collection every 700 allocations), ~20,
    # each walking the batch.
    assert len(collections) <= 3, collections
