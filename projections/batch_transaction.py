"""One transaction for every read model a batch feeds, split up only when it fails.

The Kafka consumer (a poll) and the in-process runner (a batch of the ledger's log) apply
a batch to every read model in one pipelined transaction whose commit does not wait for
its WAL flush (their positions or offsets commit with the rows, so a lost commit is
applied again from where it came). If that fails for something other than the database,
the batch is applied again read model by read model, and the split is counted
(``consent_ledger_projection_batches_split_total{runner}``) and logged: a safety net that
fires is a failure signal. A failure of the database itself is raised as it is, to be
retried whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ledger.runtime.metrics import PROJECTION_BATCHES_SPLIT
from projections.database import DATABASE_ERRORS, Cursor, ProjectionDatabase

log = logging.getLogger(__name__)


def apply_together(
    db: ProjectionDatabase,
    runner: str,
    together: Callable[[Cursor], None],
    apart: Callable[[], None],
) -> bool:
    """Run ``together`` in one transaction; if it fails (not the database), ``apart``.
    True when the batch was applied together."""
    try:
        with db.write(durable=False, pipelined=True) as cursor:
            together(cursor)
    except DATABASE_ERRORS:
        raise
    except Exception:
        PROJECTION_BATCHES_SPLIT.labels(runner).inc()
        log.warning(
            "a batch failed in the shared transaction; applying it projection by projection",
            exc_info=True,
            extra={"runner": runner},
        )
        apart()
        return False
    return True
