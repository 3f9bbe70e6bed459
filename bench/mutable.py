"""Scenario 2, the mutable baseline: how consent platforms keep it today.

A ``contacts`` table with a mutable ``optin_status`` column plus an append-only history
table. Each event is one transaction: ``UPDATE contacts SET optin_status … RETURNING
id`` and an ``INSERT`` of the history row (with the message's evidence as JSON), on the
same PostgreSQL. Each transaction updates a different, existing contact (as 32 people
texting STOP at once would). Measured on one connection (sequential commits) and on 32
connections at once (each its own thread), so PostgreSQL can flush many commits per
WAL write.
"""

from __future__ import annotations

import json
import threading
import time
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

UPDATE = (
    f"UPDATE {CONTACTS} SET optin_status = %s, updated_at = now() "
    "WHERE tenant = %s AND channel = %s AND address = %s RETURNING id"
)
INSERT = (
    f"INSERT INTO {HISTORY} (contact_id, new_status, source_kind, source_id, occurred_at, "
    "evidence) VALUES (%s, %s, 'message', %s, %s, %s)"
)


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


class Contacts:
    """Hands out contacts round-robin so no two transactions in flight touch one."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            index = self._next % self.total
            self._next += 1
            return index


def _one_event(conn: psycopg.Connection[tuple[object, ...]], index: int) -> None:
    status = "opted_out" if index % 2 == 0 else "opted_in"
    evidence = json.dumps(
        {"method": "keyword", "keyword": "STOP", "text": "STOP", "gateway": "whatsapp"}
    )
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute(UPDATE, (status, "acme", "whatsapp", contact_address(index)), prepare=True)
        found = cursor.fetchone()
        if found is None:
            raise RuntimeError(f"contact {index} is missing")
        cursor.execute(
            INSERT,
            (found[0], status, f"wamid.m.{index}", datetime.now(UTC), evidence),
            prepare=True,
        )


def run(
    conninfo: str, contacts: Contacts, *, connections: int, seconds: float
) -> tuple[int, float]:
    """Events recorded and elapsed seconds, ``connections`` clients at once."""
    conns = [psycopg.connect(conninfo) for _ in range(connections)]
    counts = [0] * connections
    errors: list[BaseException] = []
    start = threading.Barrier(connections + 1)
    deadline = 0.0

    def work(slot: int) -> None:
        conn = conns[slot]
        start.wait()
        try:
            while time.perf_counter() < deadline:
                _one_event(conn, contacts.take())
                counts[slot] += 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(connections)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for conn in conns:
        conn.close()
    if errors:
        raise errors[0]
    return sum(counts), elapsed
