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
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
