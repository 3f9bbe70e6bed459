"""Scenario 1, the physical limit: plain PostgreSQL appends of the ledger's own rows.

The rows are real stored events: the benchmark reads back what the ledger stored for
its own requests (topic and state bytes as they are in ``consentledger_events``) and
appends copies (with fresh originator ids) into a table of the same shape, with the same
primary key and notification-id index:

* one row per transaction: ``pgbench`` (``bench.pgbench_load``, bench/sql/raw_insert.sql)
  sends one ``INSERT`` per transaction of the row ``typical_row`` picks, on 1 and on 32
  connections;
* batches of 1,000, from psycopg 3: one transaction per batch, either ``COPY`` (the
  fastest way PostgreSQL takes rows, which pgbench cannot send) or one ``INSERT …
  SELECT FROM unnest(…)`` (what the ``eventsourcing`` recorder sends).
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

import psycopg

RAW_TABLE = "bench_raw_events"

CREATE = f"""
CREATE TABLE IF NOT EXISTS {RAW_TABLE} (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version));
CREATE UNIQUE INDEX IF NOT EXISTS {RAW_TABLE}_notification_id_idx
    ON {RAW_TABLE} (notification_id ASC);
"""


@dataclass(frozen=True)
class Row:
    topic: str
    state: bytes


def sample_rows(conninfo: str, *, limit: int) -> list[Row]:
    """The ``limit`` events the ledger stored last, as stored."""
    with psycopg.connect(conninfo) as conn:
        found = conn.execute(
            "SELECT topic, state FROM consentledger_events ORDER BY notification_id DESC LIMIT %s",
            (limit,),
        ).fetchall()
    if not found:
        raise RuntimeError("the ledger stored no events to copy")
    return [Row(topic, bytes(state)) for topic, state in found]


def create_table(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(CREATE)


def mean_row_bytes(rows: list[Row]) -> float:
    return sum(len(r.state) + len(r.topic) for r in rows) / len(rows)


def typical_row(rows: list[Row]) -> Row:
    """The row whose size is closest to the mean: what pgbench sends for 1 row/tx."""
    mean = mean_row_bytes(rows)
    return min(rows, key=lambda r: abs(len(r.state) + len(r.topic) - mean))


def copy_text(rows: list[Row]) -> list[bytes]:
    """Each row in COPY text format after its id: version, topic, state (bytea as hex)."""
    for row in rows:
        if any(c in row.topic for c in "\t\n\\"):
            raise ValueError(f"a topic COPY text would have to escape: {row.topic!r}")
    return [f"\t1\t{r.topic}\t\\\\x{r.state.hex()}\n".encode() for r in rows]


def batched_copy(
    conninfo: str, rows: list[Row], seconds: float, batch: int = 1000
) -> tuple[int, float]:
    """``COPY`` of ``batch`` rows per transaction, back to back.

    pgbench cannot send ``COPY … FROM STDIN``, so this client is Python. To keep it far
    below the database's limit, the rows are encoded as COPY text once; a batch only
    joins them to fresh random ids (one ``os.urandom`` call per batch).
    """
    statement = f"COPY {RAW_TABLE} (originator_id, originator_version, topic, state) FROM STDIN"
    tails = copy_text(rows)
    with psycopg.connect(conninfo) as conn:
        done = 0
        began = time.perf_counter()
        deadline = began + seconds
        while time.perf_counter() < deadline:
            ids = os.urandom(16 * batch).hex().encode()
            data = b"".join(
                ids[32 * n : 32 * n + 32] + tails[(done + n) % len(tails)] for n in range(batch)
            )
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
                copy.write(data)
            done += batch
        return done, time.perf_counter() - began


def batched_insert(
    conninfo: str, rows: list[Row], seconds: float, batch: int = 1000
) -> tuple[int, float]:
    """One ``INSERT … SELECT FROM unnest(arrays)`` of ``batch`` rows per transaction."""
    statement = (
        f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
        "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[])"
    )
    with psycopg.connect(conninfo) as conn:
        done = 0
        began = time.perf_counter()
        deadline = began + seconds
        while time.perf_counter() < deadline:
            chosen = [rows[(done + n) % len(rows)] for n in range(batch)]
            params = (
                [uuid.uuid4() for _ in chosen],
                [1] * batch,
                [r.topic for r in chosen],
                [r.state for r in chosen],
            )
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute(statement, params)
            done += batch
        return done, time.perf_counter() - began
