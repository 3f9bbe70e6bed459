"""The processes that load a rebuild's parts beside the one that runs it (``rebuild.py``).

A forked process starts at once with everything its parent imported; a spawned one imports
the application again (~1.5 s of CPU each, a third of a 100,000-event rebuild). But a
process forked while other threads run may inherit a lock one of them held at that
instant, and deadlock on it (Python 3.12 warns of such forks), and a rebuild's ledger runs
its connection pools' threads. So ``consent-ledger projections rebuild`` forks its helpers
first, before it opens anything (``RebuildHelpers.start``): each waits on a pipe for its
part of the subjects, or for word that it is not needed. A caller that already runs other
threads (a test, an embedding) gets spawned helpers: slower to start, as safe.

A helper opens a ledger of its own, loads its range of subjects into the copy, adds what
it applied to a shared count as it goes (the progress bar reads it), sends the total back
and exits. One that dies or fails sends nothing: its part is missing, and the rebuild
fails rather than swap in a copy without it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from ledger.application.consent_ledger import ConsentLedger
from ledger.runtime.process_start import child_context
from projections import bulk_load
from projections.views import open_projection

log = logging.getLogger(__name__)

# How often the parent reports the helpers' progress while it waits for them.
PROGRESS_SECONDS = 0.5


@dataclass(frozen=True)
class Part:
    """What one helper loads: part ``part`` of ``parts`` of the subjects, up to ``until``,
    into the copy of projection ``name`` (tables with ``suffix``)."""

    name: str
    suffix: str
    env: dict[str, str]
    until: int
    part: int
    parts: int


@dataclass
class _Helper:
    process: BaseProcess
    tasks: Connection  # the parent's end of the helper's pipe
    part: Part | None = None
    events: int | None = None  # what it applied, once it said so


class PartFailed(RuntimeError):
    """A helper died or failed: its part of the copy is missing."""


class RebuildHelpers:
    def __init__(self, context: BaseContext, count: int) -> None:
        self.done = context.Value("q", 0)  # events applied by every helper so far
        self._helpers: list[_Helper] = []
        for n in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(  # type: ignore[attr-defined]
                target=_help,
                args=(theirs, ours, self.done),
                name=f"rebuild-{n + 1}",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._helpers.append(_Helper(process, ours))

    def __len__(self) -> int:
        return len(self._helpers)

    @classmethod
    @contextmanager
    def start(cls, count: int) -> Iterator[RebuildHelpers]:
        """``count`` helpers, forked now if no other thread runs in this process, else
        spawned; the ones not given a part leave when the block ends."""
        context = child_context()
        fork = context.get_start_method() == "fork"
        if fork:
            # The helpers share this process's memory until they write to it, and a
            # collection writes to every object it scans: what exists now is left out of
            # the collections while the helpers live, here too.
            gc.freeze()
        helpers = cls(context, count)
        if count:
            log.info(
                "rebuild helpers started",
                extra={"helpers": count, "start_method": "fork" if fork else "spawn"},
            )
        try:
            yield helpers
        finally:
            helpers.close()
            if fork:
                gc.unfreeze()

    def load(self, parts: list[Part]) -> None:
        """Hand each part to a helper of its own (at most one part a helper)."""
        if len(parts) > len(self._helpers):
            raise ValueError(f"{len(parts)} parts for {len(self._helpers)} helpers")
        for helper, part in zip(self._helpers, parts, strict=False):
            helper.part = part
            try:
                helper.tasks.send(part)
            except OSError:  # it died before it got its part
                helper.process.join()
                raise PartFailed(_failure(helper)) from None

    def wait(self, progress: Callable[[], None]) -> int:
        """Wait until every helper given a part has loaded it; the events they applied.
        ``progress`` is called every ``PROGRESS_SECONDS`` meanwhile."""
        pending = [h for h in self._helpers if h.part is not None and h.events is None]
        while pending:
            helper = pending[0]
            if helper.tasks.poll(PROGRESS_SECONDS):
                try:
                    helper.events = int(helper.tasks.recv())
                except EOFError:  # it ended without answering: it failed
                    helper.process.join()
                    raise PartFailed(_failure(helper)) from None
                pending.pop(0)
            elif not helper.process.is_alive() and not helper.tasks.poll():
                raise PartFailed(_failure(helper))
            progress()
        return sum(h.events or 0 for h in self._helpers)

    def close(self) -> None:
        """Tell the helpers without a part to leave; stop any still working."""
        for helper in self._helpers:
            if helper.part is None:
                with suppress(OSError):  # it is gone already
                    helper.tasks.send(None)
        for helper in self._helpers:
            helper.process.join(
                timeout=5 if helper.part is None or helper.events is not None else 0
            )
            if helper.process.is_alive():
                helper.process.terminate()
                helper.process.join()
            helper.tasks.close()


def _failure(helper: _Helper) -> str:
    part = helper.part
    which = f"part {part.part} of {part.parts} of {part.name}" if part else "a helper"
    return f"rebuild: the process loading {which} failed (exit code {helper.process.exitcode})"


def _help(tasks: Connection, parents_end: Connection, done: Any) -> None:
    """A helper: wait for a part (or ``None``: not needed), load it, answer the count."""
    # A forked helper holds a copy of the parent's end of its pipe: closed, the pipe ends
    # (and the helper with it) when the parent does, however it ends.
    parents_end.close()
    try:
        part = tasks.recv()
    except EOFError:  # the rebuild ended without needing it
        return
    if part is None:
        return
    ledger = ConsentLedger(part.env)

    def count(events: int) -> None:
        with done.get_lock():
            done.value += events

    try:
        shadow = open_projection(part.name, ledger, suffix=part.suffix, create=False)
        events = bulk_load.load(
            shadow, ledger, part.until, part=part.part, parts=part.parts, progress=count
        )
    finally:
        ledger.close()
    tasks.send(events)
