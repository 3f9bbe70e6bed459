"""When a failed delivery is tried again: exponential back-off with jitter, then dead.

Attempt ``n`` (1-based) that failed waits ``min(max_delay, base * 2**(n-1))``, of which
a random part (up to half) is taken off so that endpoints coming back are not hit by
every retry at once. After ``max_attempts`` failures the delivery is dead-lettered; it
then waits (and holds its subject's later deliveries) until an admin replays or skips it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 1.0
    max_delay_seconds: float = 3600.0
    max_attempts: int = 12

    def delay(self, attempts: int, jitter: float) -> float | None:
        """Seconds before the next try after ``attempts`` failures (``jitter`` in [0, 1));
        None once the delivery is dead."""
        if attempts >= self.max_attempts:
            return None
        ceiling = min(self.max_delay_seconds, self.base_seconds * 2.0 ** (attempts - 1))
        return ceiling * (1.0 - 0.5 * jitter)
