"""Scenario 1, the physical limit: plain PostgreSQL appends of the ledger's own rows.

The rows are real stored events: the benchmark reads back what the ledger stored for
its own requests (topic and state bytes as they are in ``consentledger_events``) and
appends copies (with fresh originator ids) into a table of the same shape, with the same
primary key and notification-id index, using psycopg 3:

* one row per transaction: one connection, an ``INSERT`` and a commit per row;
* batches of 1,000: one transaction per batch, either ``COPY`` (the fastest way
  PostgreSQL takes rows) or one ``INSERT … SELECT FROM unnest(…)`` (what the
  ``eventsourcing`` recorder sends).
"""

from __future__ import annotations

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


def one_per_transaction(conninfo: str, rows: list[Row], seconds: float) -> tuple[int, float]:
    """Sequential commits on one connection: rows appended, elapsed seconds."""
    statement = (
        f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
        "VALUES (%s, 1, %s, %s)"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cursor:
        done = 0
        began = time.perf_counter()
        deadline = began + seconds
        while time.perf_counter() < deadline:
            row = rows[done % len(rows)]
            cursor.execute(statement, (uuid.uuid4(), row.topic, row.state), prepare=True)
            done += 1
        return done, time.perf_counter() - began


def batched_copy(
    conninfo: str, rows: list[Row], seconds: float, batch: int = 1000
) -> tuple[int, float]:
    """``COPY`` of ``batch`` rows per transaction, back to back."""
    statement = f"COPY {RAW_TABLE} (originator_id, originator_version, topic, state) FROM STDIN"
    with psycopg.connect(conninfo) as conn:
        done = 0
        began = time.perf_counter()
        deadline = began + seconds
        while time.perf_counter() < deadline:
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
                for n in range(batch):
                    row = rows[(done + n) % len(rows)]
                    copy.write_row((uuid.uuid4(), 1, row.topic, row.state))
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
