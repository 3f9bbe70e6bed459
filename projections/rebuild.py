"""``projections rebuild NAME``: replay the ledger into fresh tables and swap them in.

The ledger, not Kafka, is replayed: it is the source of truth and holds everything. The
copy is built beside the live tables (``<table>__rebuild``), without its secondary
indexes, while the live ones keep serving and being fed: each subject's history is
folded once, in subject order, by one process per core (``bulk_load.py``); then the
indexes are built. Then, in one transaction that holds off the live tables' writers
(readers go on), the copy catches up with the ledger's latest events and replaces the
live tables. The live projection's Kafka offsets stay valid: the copy holds every event
the live one had applied (the publisher only publishes what the ledger holds), and
anything redelivered later is at or below a subject's version and ignored.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ledger.application.core import LedgerCore
from projections import bulk_load
from projections.database import Cursor
from projections.ledger_feed import catch_up
from projections.ledger_source import LedgerSource
from projections.read_model import Index
from projections.rebuild_helpers import Part, RebuildHelpers
from projections.subject_projection import SubjectProjection
from projections.views import open_projection

SHADOW = "__rebuild"
EVENTS_PER_EXTRA_PROCESS = 20_000

Progress = Callable[[int, int], None]  # (events read so far, events in the ledger)


@dataclass(frozen=True)
class Rebuilt:
    name: str
    events: int  # subject events applied
    subjects: int
    position: int  # ledger position the rebuilt tables include


def rebuild(
    name: str,
    ledger: LedgerCore,
    progress: Progress | None = None,
    helpers: RebuildHelpers | None = None,
) -> Rebuilt:
    """Rebuild projection ``name``. ``helpers``: processes started before the ledger was
    opened (``RebuildHelpers.start``) to load parts of a large ledger; without them, the
    rebuild starts its own."""
    source = LedgerSource(ledger)
    live = open_projection(name, ledger)
    shadow = open_projection(name, ledger, suffix=SHADOW, create=False)
    _drop(shadow)
    shadow.create_tables(with_indexes=False)
    total = source.last_position()
    read = 0

    def advance(count: int) -> None:
        nonlocal read
        read += count
        if progress is not None:
            progress(read, max(total, read))

    events = _load(name, ledger, shadow, total, advance, helpers)
    if shadow.db.postgres:  # index the copy before the swap, so the swap stays short
        _create_indexes(shadow, temporary=True)
    with live.db.write() as cursor:
        if live.db.postgres:
            cursor.execute(f"LOCK TABLE {live.subjects_table} IN EXCLUSIVE MODE")
        position = shadow.applied_position()
        events += catch_up(shadow, source, cursor=cursor, progress=advance)
        position = max(position, _position_in(cursor, shadow))
        _swap(cursor, live, shadow, position)
    subjects = _count_subjects(live)
    return Rebuilt(name=name, events=events, subjects=subjects, position=position)


def _load(
    name: str,
    ledger: LedgerCore,
    shadow: SubjectProjection,
    until: int,
    advance: Callable[[int], None],
    helpers: RebuildHelpers | None,
) -> int:
    """Fold the ledger up to ``until`` into the empty copy (``bulk_load.py``): on
    PostgreSQL in one process per core, each loading its own range of subjects."""
    # Another process pays off only for a large ledger.
    parts = 1
    if shadow.db.postgres and until >= EVENTS_PER_EXTRA_PROCESS:
        parts = max(1, min(os.cpu_count() or 1, until // EVENTS_PER_EXTRA_PROCESS))
        if helpers is not None:
            parts = min(parts, 1 + len(helpers))
    if parts == 1:
        events = bulk_load.load(shadow, ledger, until, progress=advance)
    elif helpers is not None:
        events = _load_in_processes(name, shadow, ledger, until, parts, advance, helpers)
    else:
        with RebuildHelpers.start(parts - 1) as started:
            events = _load_in_processes(name, shadow, ledger, until, parts, advance, started)
    with shadow.db.write() as cursor:
        shadow.checkpoints.advance_in(cursor, shadow.name, until)
    return events


def _load_in_processes(
    name: str,
    shadow: SubjectProjection,
    ledger: LedgerCore,
    until: int,
    parts: int,
    advance: Callable[[int], None],
    helpers: RebuildHelpers,
) -> int:
    """Part 0 in this process, the others by ``helpers`` (``rebuild_helpers.py``)."""
    done = helpers.done
    reported = 0

    def report(count: int) -> None:
        nonlocal reported
        with done.get_lock():
            done.value += count
            now = int(done.value)
        advance(now - reported)
        reported = now

    env = dict(ledger.env)
    helpers.load([Part(name, SHADOW, env, until, part, parts) for part in range(1, parts)])
    events = bulk_load.load(shadow, ledger, until, part=0, parts=parts, progress=report)
    events += helpers.wait(lambda: report(0))
    report(0)
    return events


def _tables(projection: SubjectProjection) -> list[str]:
    return [f"{projection.model.name}_subjects", *projection.model.tables]


def _drop(shadow: SubjectProjection) -> None:
    with shadow.db.write() as cursor:
        for base in _tables(shadow):
            cursor.execute(f"DROP TABLE IF EXISTS {shadow.db.table(base + SHADOW)}")
        for statement in shadow.checkpoints.create_statements():
            cursor.execute(statement)
        shadow.checkpoints.forget(cursor, shadow.name)


def _create_indexes(projection: SubjectProjection, *, temporary: bool) -> None:
    """Build the copy's indexes at once, each on its own connection: a build is one
    sort on one core, and the machine has more than one."""

    def build(index: Index) -> None:
        name = index.name + (SHADOW if temporary else "")
        table = projection.model.t(index.table)
        with projection.db.write() as cursor:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({index.columns})")

    indexes = projection.model.indexes()
    if not indexes:
        return
    workers = max(1, min(len(indexes), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rebuild-index") as pool:
        for future in [pool.submit(build, index) for index in indexes]:
            future.result()


def _position_in(cursor: Cursor, projection: SubjectProjection) -> int:
    row = cursor.execute(
        f"SELECT position FROM {projection.db.table('projection_positions')} WHERE projection = ?",
        (projection.name,),
    ).fetchone()
    return int(row["position"]) if row else 0


def _swap(
    cursor: Cursor, live: SubjectProjection, shadow: SubjectProjection, position: int
) -> None:
    db = live.db
    for base in _tables(live):
        cursor.execute(f"DROP TABLE IF EXISTS {db.table(base)}")
        cursor.execute(f"ALTER TABLE {db.table(base + SHADOW)} RENAME TO {base}")
        if db.postgres:
            cursor.execute(
                f"ALTER TABLE {db.table(base)} RENAME CONSTRAINT {base}{SHADOW}_pkey TO {base}_pkey"
            )
    for index in live.model.indexes():
        if db.postgres:
            cursor.execute(f"ALTER INDEX {db.table(index.name + SHADOW)} RENAME TO {index.name}")
        else:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {index.name} ON {db.table(index.table)} "
                f"({index.columns})"
            )
    live.checkpoints.advance_in(cursor, live.name, position)
    live.checkpoints.forget(cursor, shadow.name)


def _count_subjects(projection: SubjectProjection) -> int:
    with projection.db.read() as cursor:
        row = cursor.execute(f"SELECT COUNT(*) AS n FROM {projection.subjects_table}").fetchone()
    return int(row["n"]) if row else 0
