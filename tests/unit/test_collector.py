"""``Batches``: a run of batches is collected once every few batches, not at each one,
and what it leaves in cycles is still freed."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from collections.abc import Iterator

import pytest

from ledger.runtime.collector import (
    FULL_COLLECTION_EVERY,
    YOUNG_COLLECTION_EVERY,
    Batches,
)


class Node:
    me: Node | None = None


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of every collection that ends while the test runs."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            seen.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)


def test_a_run_of_batches_is_collected_once_every_few_batches(collections: list[int]) -> None:
    kept: list[list[list[int]]] = []
    freed: weakref.ref[Node] | None = None
    with Batches(every=4) as batches:
        for n in range(8):
            batches.started()
            if n == 0:  # paused from here: what other threads did before does not count
                collections.clear()
            if n == 4:  # the collection at this batch's start freed the cycle
                assert freed is not None
                assert freed() is None
            # Allocations that would start several young collections, kept alive like a
            # batch in flight is.
            kept.append([[i] for i in range(5_000)])
            del kept[:-2]
            if n == 1:
                cycle = Node()
                cycle.me = cycle
                freed = weakref.ref(cycle)
                del cycle
        assert not gc.isenabled()
    assert gc.isenabled()
    assert collections == [1]  # one, at the fifth batch: young and middle generations


def test_a_started_process_leaves_what_start_up_built_out_of_every_collection() -> None:
    # In a process of its own: freezing is for the whole process.
    script = (
        "import gc, json\n"
        "from api.cli import consume, publish\n"  # a worker's start-up
        "from ledger.runtime.collector import settle_after_start\n"
        "settle_after_start()\n"
        "print(json.dumps([gc.get_freeze_count(), len(gc.get_objects(2)), gc.get_threshold()]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    frozen, oldest, thresholds = json.loads(done.stdout)
    assert frozen > 50_000  # the modules, classes and functions start-up made
    assert oldest < 100  # what a full collection still walks
    assert thresholds == [YOUNG_COLLECTION_EVERY, 10, FULL_COLLECTION_EVERY]
