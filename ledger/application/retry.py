"""One retry policy for everything the application reads from and writes to the ledger.

- A **conflict** (``IntegrityError``: another process stored a subject's next version or
  a source id first) is decided again against the state it left, with a short jittered
  back-off, for at most ``conflict_budget_seconds``.
- A **dropped connection** (``OperationalError``/``InterfaceError``: the database
  restarted, a network blip) is tried again after ``transient_wait_seconds``, at most
  ``transient_attempts`` times in all; the pool replaces the connection meanwhile.
- Any other refusal of the database is not retried.

Whatever gives up raises ``Unavailable`` (HTTP 503): nothing was stored.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)

from ledger.domain.errors import DatabaseAway, Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    conflict_budget_seconds: float = 20.0
    max_conflict_backoff_seconds: float = 0.05
    transient_attempts: int = 3
    transient_wait_seconds: float = 0.3
    # Each dropped connection waits this much longer than the one before (start-up waits).
    transient_wait_growth_seconds: float = 0.0
    # Called after a dropped connection, before the next try: e.g. to check a pool's
    # idle connections, which all died with a restarted server.
    recover: Callable[[], None] | None = None

    def run(self, attempt: Callable[[], T], *, outcome: str = "nothing was stored") -> T:
        """``attempt()``, retried by this policy; ``outcome`` says what a failure left."""
        deadline = time.monotonic() + self.conflict_budget_seconds
        conflicts = 0
        dropped = 0
        while True:
            try:
                return attempt()
            except IntegrityError:
                conflicts += 1
                if time.monotonic() > deadline:
                    raise Unavailable(
                        f"the subject is under heavy concurrent change; {outcome}"
                    ) from None
                backoff = min(self.max_conflict_backoff_seconds, 0.001 * 2**conflicts)
                time.sleep(random.uniform(0, backoff))  # noqa: S311
            except (OperationalError, InterfaceError) as exc:
                dropped += 1
                if dropped >= self.transient_attempts:
                    log.error("ledger unavailable", extra={"error": str(exc)})
                    raise DatabaseAway(f"the ledger database is unavailable; {outcome}") from exc
                time.sleep(
                    self.transient_wait_seconds + self.transient_wait_growth_seconds * dropped
                )
                if self.recover is not None:
                    try:
                        self.recover()
                    except Exception as error:  # the next try says whether it helped
                        log.warning("could not recover connections", extra={"error": str(error)})
            except PersistenceError as exc:
                log.error("ledger database refused", extra={"error": str(exc)})
                raise Unavailable(f"the ledger database refused; {outcome}") from exc


DEFAULT_RETRY = RetryPolicy()
