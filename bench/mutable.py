"""Scenario 2, the mutable baseline: how consent platforms keep it today.

A ``contacts`` table with a mutable ``optin_status`` column plus an append-only history
table. Each event is one transaction: ``UPDATE contacts SET optin_status … RETURNING
id`` and an ``INSERT`` of the history row (with the message's evidence as JSON), on the
same PostgreSQL. Each transaction updates a different, existing contact (as 32 people
texting STOP at once would). ``pgbench`` sends the transactions (bench/sql/mutable.sql,
``bench.pgbench_load``), on one connection (sequential commits) and on 32 connections
at once, so PostgreSQL can flush many commits per WAL write.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

CONTACTS = "bench_contacts"
HISTORY = "bench_contact_optin_history"

CREATE = f"""
CREATE TABLE IF NOT EXISTS {CONTACTS} (
    id bigserial PRIMARY KEY,
    tenant text NOT NULL,
    channel text NOT NULL,
    address text NOT NULL,
    optin_status text NOT NULL,
    purposes text[] NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (tenant, channel, address));
CREATE TABLE IF NOT EXISTS {HISTORY} (
    id bigserial PRIMARY KEY,
    contact_id bigint NOT NULL REFERENCES {CONTACTS} (id),
    new_status text NOT NULL,
    source_kind text NOT NULL,
    source_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    evidence jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS {HISTORY}_contact ON {HISTORY} (contact_id);
"""


def contact_address(index: int) -> str:
    return f"+1312{index:07d}"


def prepare(conninfo: str, contacts: int) -> None:
    """The tables, with ``contacts`` existing contacts (all opted in)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(CREATE)
        with (
            conn.cursor() as cursor,
            cursor.copy(
                f"COPY {CONTACTS} (tenant, channel, address, optin_status, purposes, updated_at) "
                "FROM STDIN"
            ) as copy,
        ):
            now = datetime.now(UTC)
            for n in range(contacts):
                copy.write_row(
                    ("acme", "whatsapp", contact_address(n), "opted_in", ["marketing"], now)
                )
        conn.execute(f"VACUUM ANALYZE {CONTACTS}")
