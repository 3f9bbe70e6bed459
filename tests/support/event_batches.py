"""``POST /v1/events`` bodies for tests: a batch of new opt-ins, one number each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def opt_in_batch(run: str, size: int) -> dict[str, Any]:
    """``size`` opt-ins from numbers +1415 0000000 on, source ids ``<run>-<n>``."""
    now = datetime.now(UTC).isoformat()
    return {
        "events": [
            {
                "type": "opted_in",
                "channel": "whatsapp",
                "address": f"+1415{n:07d}",
                "purposes": ["marketing"],
                "occurred_at": now,
                "source": {"kind": "import", "id": f"{run}-{n}"},
                "evidence": {"method": "import"},
            }
            for n in range(size)
        ]
    }
