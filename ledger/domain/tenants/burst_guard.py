"""A tenant's burst guard: how many gateway opt-outs in how long are unusual.

A gateway bug (a wrong error code sent for every message) can look like thousands of
people opting out at once. When a tenant's provider-signal opt-outs within
``window_seconds`` reach ``max_opt_outs``, the next ones are held for review instead of
recorded: the subjects get no messages meanwhile, and an admin releases or dismisses
each hold. Opt-outs the person sent themselves (keywords, buttons, forms) are never held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ledger.domain.errors import InvalidInput

DEFAULT_MAX_OPT_OUTS = 500
DEFAULT_WINDOW = timedelta(minutes=10)
MAX_WINDOW_SECONDS = 7 * 24 * 3600
MAX_LIMIT = 1_000_000


@dataclass(frozen=True)
class BurstGuard:
    enabled: bool = True
    max_opt_outs: int = DEFAULT_MAX_OPT_OUTS
    window_seconds: int = int(DEFAULT_WINDOW.total_seconds())

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "max_opt_outs": self.max_opt_outs,
            "window_seconds": self.window_seconds,
        }


def check_burst_guard(enabled: bool, max_opt_outs: int, window_seconds: int) -> BurstGuard:
    if not 1 <= max_opt_outs <= MAX_LIMIT:
        raise InvalidInput(
            f"max_opt_outs must be 1-{MAX_LIMIT}", field="max_opt_outs", code="invalid_limit"
        )
    if not 1 <= window_seconds <= MAX_WINDOW_SECONDS:
        raise InvalidInput(
            f"window_seconds must be 1-{MAX_WINDOW_SECONDS}",
            field="window_seconds",
            code="invalid_limit",
        )
    return BurstGuard(enabled, max_opt_outs, window_seconds)
