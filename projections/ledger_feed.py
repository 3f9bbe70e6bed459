"""Feeding projections straight from the ledger's notification log, in order.

Used by the in-process runner (embedded default), by rebuilds, and by one-shot
catch-ups (e.g. ``consent-ledger expire`` on the embedded default). Every batch is
applied with the position of its last notification as the projection's low watermark:
the log is read in order, so everything up to there has been applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from projections.checkpoints import Checkpoint
from projections.database import Cursor
from projections.ledger_source import LedgerSource, Positioned
from projections.poll_memo import PollMemo
from projections.subject_projection import SubjectProjection

BATCH = 1000


def apply_from_ledger(
    projection: SubjectProjection,
    items: Sequence[Positioned],
    through: int,
    cursor: Cursor | None = None,
    after: int | None = None,
    memo: PollMemo | None = None,
) -> int:
    """Apply the part of ``items`` past the projection's position; watermark ``through``.
    ``memo``: shared by the projections applying the same batch in one transaction."""
    if after is None:
        after = projection.applied_position()
    fresh = [item for item in items if item.position > after]
    checkpoint = Checkpoint(position=through)
    if cursor is not None:
        return projection.apply_in(cursor, fresh, checkpoint, memo)
    return projection.apply(fresh, checkpoint)


def catch_up(
    projection: SubjectProjection,
    source: LedgerSource,
    *,
    until: int | None = None,
    cursor: Cursor | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Apply every ledger event after the projection's position (up to ``until``)."""
    applied = 0
    position = projection.applied_position()
    while until is None or position < until:
        notifications = source.log.read(position, BATCH)
        if until is not None:
            notifications = [n for n in notifications if n.id <= until]
        if not notifications:
            break
        items = source.decode(notifications)
        applied += apply_from_ledger(projection, items, notifications[-1].id, cursor, position)
        position = notifications[-1].id
        if progress is not None:
            progress(len(notifications))
    return applied
