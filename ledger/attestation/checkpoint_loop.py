"""Checkpoints in-process: the embedded default seals its own log.

With no separate ``consent-ledger seal`` process (the embedded SQLite default), ``serve``
runs a ``CheckpointLoop``: a first pass before the API answers (so ``GET /v1/public-key``
works at once), then one every few seconds on a thread of its own, and one on demand
when a bundle holds events the latest checkpoint does not cover yet (``seal_now``).

Every pass is counted (``consent_ledger_checkpoint_passes_total{outcome}``), a pass that
added leaves is logged like ``consent-ledger seal`` logs it, and
``consent_ledger_checkpoint_age_seconds`` says how old the latest checkpoint is. A log
whose stored tree no longer matches its checkpoint stops the loop: nothing is signed
past it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from eventsourcing.persistence import PersistenceError

from ledger.attestation.checkpointer import Checkpointer, LogCorrupted
from ledger.domain.times import utc_now
from ledger.persistence.merkle_store import CheckpointConflict
from ledger.runtime.metrics import CHECKPOINT_AGE, CHECKPOINT_PASSES, CHECKPOINT_TREE_SIZE

log = logging.getLogger("ledger.sealer")


class CheckpointLoop:
    def __init__(
        self,
        checkpointer: Checkpointer,
        *,
        every: float,
        after_pass: Callable[[], object] | None = None,
    ) -> None:
        if every <= 0:
            raise ValueError("the checkpoint interval must be positive")
        self.checkpointer = checkpointer
        # Run after every pass that did not fail (witness submissions, issue 18).
        self.after_pass = after_pass
        self.on_close: list[Callable[[], object]] = []
        self.every = every
        self.passes = 0  # passes finished
        self.stopped_by: str | None = None  # why the loop stopped, if it did
        self._requested = 0  # passes asked for by seal_now
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._latest_time: float | None = None
        CHECKPOINT_AGE.set_function(self._age)

    # ----------------------------------------------------------------- control
    def start(self, *, wait: float = 5.0) -> None:
        """A pass at once, then one every ``every`` seconds. Waits (up to ``wait``
        seconds: a large unsealed log may take longer) for the first pass, so the API
        answers with a checkpoint from its first request."""
        with self._cond:
            self._requested += 1
        self._thread.start()
        deadline = time.monotonic() + wait
        with self._cond:
            while self.passes < 1 and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        for close in self.on_close:
            close()

    def seal_now(self, timeout: float) -> bool:
        """Ask for a pass and wait until one that started after this call has finished;
        False if none did within ``timeout`` (or the loop is stopped)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._requested += 1
            # The pass running now may have read the log before the caller's events.
            wanted = self.passes + 2 if self._busy else self.passes + 1
            self._cond.notify_all()
            while self.passes < wanted:
                left = deadline - time.monotonic()
                if left <= 0 or self.stopped_by is not None or self._stop.is_set():
                    return False
                self._cond.wait(left)
        return True

    # ----------------------------------------------------------------- the loop
    _busy = False

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                if not self._requested:
                    self._cond.wait(self.every)
                self._requested = 0
                self._busy = True  # from here on, this pass may miss newer events
            if self._stop.is_set():
                return
            if not self._pass():
                return

    def _pass(self) -> bool:
        """One pass; False when the loop must stop (the stored tree is corrupt)."""
        started = time.perf_counter()
        outcome = "unchanged"
        try:
            result = self.checkpointer.checkpoint_once()
            if result.checkpoint is None and self._latest_time is None:
                latest = self.checkpointer.store.latest_checkpoint()  # none new since start
                self._latest_time = latest.time.timestamp() if latest else None
        except CheckpointConflict as conflict:
            outcome = "skipped"
            log.warning(
                "another sealer is writing; skipped this pass", extra={"reason": str(conflict)}
            )
        except PersistenceError as error:
            outcome = "failed"
            log.error("sealing failed; nothing was signed", extra={"error": str(error)})
        except LogCorrupted as corrupted:
            outcome = "corrupt"
            self.stopped_by = str(corrupted)
            log.error(
                "the attestation log is corrupt; in-process sealing stopped",
                extra={"error": str(corrupted)},
            )
        except Exception:  # a bug must not end sealing silently: logged, counted, retried
            outcome = "failed"
            log.exception("sealing failed; nothing was signed")
        else:
            checkpoint = result.checkpoint
            if checkpoint is not None:
                outcome = "signed"
                self._latest_time = checkpoint.time.timestamp()
            CHECKPOINT_TREE_SIZE.set(result.tree_size)
            level = logging.INFO if result.leaves_added or checkpoint else logging.DEBUG
            log.log(
                level,
                "sealed",
                extra={
                    "leaves_added": result.leaves_added,
                    "tree_size": result.tree_size,
                    "checkpoint_signed": checkpoint is not None,
                    "root_hash": checkpoint.root_hash.hex() if checkpoint else None,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "in_process": True,
                },
            )
        CHECKPOINT_PASSES.labels(outcome).inc()
        if self.after_pass is not None and outcome in ("signed", "unchanged"):
            try:
                self.after_pass()
            except Exception:  # logged; the next pass tries again
                log.exception("the step after sealing failed")
        with self._cond:
            self._busy = False
            self.passes += 1
            self._cond.notify_all()
        return outcome != "corrupt"

    def _age(self) -> float:
        """Seconds since the latest checkpoint this loop knows of (0: none yet)."""
        if self._latest_time is None or self._stop.is_set():
            return 0.0
        return max(0.0, utc_now().timestamp() - self._latest_time)
