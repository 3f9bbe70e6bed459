"""A write's reads probe primary keys: their cost is the group's, never the ledger's.

The writer reads, for every group, the receipts of its source ids, its subjects' newer
events and their data keys, in one statement of LATERAL lookups. PostgreSQL flattened
those lookups into joins and, taking the JSON key list for 100 rows, hashed the whole
receipts and keys tables for every group until they held ~90,000 rows: each write read
thousands of rows. Checked on real PostgreSQL with no statistics gathered (as on a
server whose autovacuum has not run yet) and a few thousand subjects stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
from psycopg.sql import SQL

from ledger.application.consent_ledger import ConsentLedger
from ledger.persistence.postgres import LedgerPostgresRecorder
from ledger.persistence.postgres_groups import _json
from tests.conftest import pg_settings
from tests.support.commands import opt_in

SUBJECTS = 3_000


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def test_a_groups_read_probes_each_key_and_scans_no_table(pg_url: str) -> None:
    ledger = ConsentLedger(pg_settings(pg_url).eventsourcing_env())
    try:
        commands = [opt_in(f"+1415{n:07d}", source_id=f"form-{n}") for n in range(SUBJECTS)]
        for start in range(0, SUBJECTS, 1_000):
            ledger.record_batch(commands[start : start + 1_000])
        recorder = ledger.recorder
        assert isinstance(recorder, LedgerPostgresRecorder)
        groups = recorder.groups
        subjects = [UUID(int=n + 1) for n in range(3)]
        wanted = _json(
            [
                {"tenant": "acme", "source_kind": "web_form", "source_id": f"form-{n}"}
                for n in (1, 2)
            ]
        )
        known = _json([{"id": str(sid), "known": 0} for sid in subjects])
        with psycopg.connect(pg_url, autocommit=True) as conn:
            explain = SQL("EXPLAIN (FORMAT JSON) ") + groups.read_group
            row = conn.execute(explain, (wanted, known, known)).fetchone()
    finally:
        ledger.close()
    assert row is not None
    nodes = list(_nodes(row[0][0]["Plan"]))
    scanned = {(n["Node Type"], n["Relation Name"]) for n in nodes if "Relation Name" in n}
    tables = {table for _, table in scanned}
    assert {recorder.receipts_table, recorder.keys_table, recorder.events_table_name} <= tables
    whole = {(kind, table) for kind, table in scanned if kind == "Seq Scan"}
    assert not whole, f"a write's read scans whole tables: {sorted(whole)}"
    assert not [n for n in nodes if n["Node Type"] in ("Hash Join", "Merge Join")]
