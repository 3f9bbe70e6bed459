"""``collection_paused``: no automatic garbage collection while a batch is built.

Building a batch of 1,000 events allocates tens of thousands of objects that all live
until the batch is stored (commands, states, events, rows). Python's collector runs every
700 allocations and, every hundredth time, walks every object the process holds (the
writer's subject states among them): a third of the CPU a batch event cost was spent
walking objects that were never garbage. While any caller holds the pause, automatic
collection is off; the first allocation after the last one leaves collects the young
objects once. Explicit ``gc.collect()`` calls still work meanwhile.

Pauses nest and may overlap across threads (a batch validated on a worker thread while
the writer decides on the loop): collection comes back on when the last one ends, and only
if it was on before the first.

``Batches``: one pause over a run of batches (an import), with the young objects collected
once every ``BATCHES_PER_COLLECTION`` batches instead of at every batch's end. An import
keeps one batch stored while it builds the next, so whenever a pause ended the young
generation held a whole batch, alive (~35 tracked objects a row: rows, commands, states,
events), and the collection walked all of it to free nothing: ~20 ms a batch, ~8% of a
recording process's CPU (measured with ``gc.callbacks``; its collections found no cyclic
garbage). Batches are freed by their reference counts as before; the collection every
few batches still frees any cycle they leave.

``fewer_full_collections``: a full collection walks every object the process made since
start-up (``gc.freeze()`` leaves out what start-up made). A writer's state cache held ~7
tracked objects a subject, up to 50,000 subjects (~255 ms a full collection); it now holds
untracked tuples (``ledger/application/writer/compact_states.py``). Python starts a full
collection after every 10 collections of the middle generation once a quarter more
objects survived: while the cache churned, recording batches of new subjects ran ~8 full
collections per 70,000 events. After every 100, three; the writer's CPU per event fell
~10% (measured in process, five runs each side by side: 177 -> 160 µs on average) and
stayed flat as the cache filled. Young objects are collected as often as before; garbage
that outlived two young collections waits longer (the soak test holds serve's memory
flat).

``fewer_young_collections`` (``serve`` and the other long-running processes): Python
collects the young generation every 700 allocations. In ``serve`` under load those
collections walk the requests in flight (a batch of 1,000 events is ~35,000 live objects
from its body to its answer) again and again: with ``gc.callbacks`` timing them, a fifth
of a worker's CPU went to collections during batch ingest, ~8% during single messages.
One young collection every 20,000 allocations: batch ingest's CPU per event fell in each
of four runs side by side (257/231, 210/198, 191/162, 219/205 µs); single messages' CPU
and p99 did not move beyond their runs' spread. Objects freed by their reference counts
(nearly all) are freed at once as before; only cyclic garbage (a caught exception's
frames, say) waits for the next collection. Every 100,000 allocations cut batch ingest's
CPU again (230/217, 221/200, 266/227 µs) but was not kept: a full collection comes after
1,000 young ones (``FULL_COLLECTION_EVERY`` middle ones): 100 million net allocations
apart instead of 20 million (700,000 with Python's defaults), and long-lived cyclic
garbage waits for it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

# Collections of the middle generation before a full one (Python's default: 10).
FULL_COLLECTION_EVERY = 100
# Allocations (less deallocations) between two young collections in long-running processes.
YOUNG_COLLECTION_EVERY = 20_000
# Batches of a run between two collections of the young and middle generations.
BATCHES_PER_COLLECTION = 10

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collection_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def fewer_full_collections() -> None:
    """Start a full collection after ``FULL_COLLECTION_EVERY`` middle ones (see above)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def settle_after_start() -> None:
    """For a long-running process once it has started (``serve``, ``publish``,
    ``consume``, ``deliver``): what start-up built is left out of every collection from now
    on (``gc.freeze``: a full collection of it took ~100 ms, a stall for every message in
    flight), full collections are rarer and young ones less frequent (above)."""
    gc.collect()
    gc.freeze()
    fewer_full_collections()
    fewer_young_collections()


def fewer_young_collections() -> None:
    """Collect the young generation after ``YOUNG_COLLECTION_EVERY`` allocations (see
    above)."""
    _, middle, full = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, full)


class Batches:
    """Automatic collection paused from the first batch of a run to the end of the block;
    ``started()`` at each batch's start collects the young and middle generations once
    every ``every`` batches (see above)."""

    def __init__(self, every: int = BATCHES_PER_COLLECTION) -> None:
        self.every = every
        self.count = 0
        self._paused = ExitStack()

    def __enter__(self) -> Batches:
        return self

    def __exit__(self, *exc: object) -> None:
        self._paused.close()

    def started(self) -> None:
        if self.count == 0:
            self._paused.enter_context(collection_paused())
        elif self.count % self.every == 0:
            gc.collect(1)
        self.count += 1
