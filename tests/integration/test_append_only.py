"""Ledger and proof tables refuse UPDATE, DELETE and TRUNCATE in the database itself.

Every table of the ledger's database has a decision (``DECISIONS``): append-only (no
change at all), or append-and-delete (erasure crypto-shreds a subject's data key and
drops its unsent messages; a superseded gateway configuration's secrets are forgotten),
where UPDATE and TRUNCATE are still refused. A new table without a decision fails
``test_every_ledger_table_has_a_decision``.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from api.cli.schema import create_side_tables
from ledger.application.api_keys import AccessRegistry
from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.campaigns.receipts import CampaignReceipts
from ledger.attestation.storage import open_cosignature_store
from ledger.domain.campaign_receipts import draft_receipt
from ledger.domain.roles import Role
from ledger.persistence.deliveries import Delivery, delivery_table
from ledger.persistence.gateway_secrets import StoredSecrets, gateway_secret_table
from ledger.persistence.opt_out_counts import opt_out_counts
from ledger.persistence.webhook_outbox import WebhookOutbox
from ledger.persistence.webhook_subscriptions import SubscriptionTable
from ledger.runtime.storage_settings import StorageSettings, access_env
from tests.conftest import pg_settings, sqlite_settings
from tests.support.attestation import new_sealer
from tests.support.commands import message, opt_in

ALICE = "+14155550100"
APPEND_ONLY = ("UPDATE", "DELETE", "TRUNCATE")
KEEP_DELETE = ("UPDATE", "TRUNCATE")

# Table (without the ``consentledger`` / ``stored`` prefix) -> the operations refused.
DECISIONS: dict[str, tuple[str, ...]] = {
    "_events": APPEND_ONLY,  # consent and tenant-settings events
    "_events_receipts": APPEND_ONLY,  # which source message made which event
    "_events_merkle_leaves": APPEND_ONLY,
    "_events_merkle_nodes": APPEND_ONLY,
    "_events_checkpoints": APPEND_ONLY,  # signed checkpoints
    "_events_deliveries": APPEND_ONLY,  # delivery evidence of opt-in requests
    "_events_subject_keys": KEEP_DELETE,  # erasure deletes the key (crypto-shredding)
    "_events_outbox": KEEP_DELETE,  # erasure deletes unsent messages (clear address)
    "_events_gateway_secrets": KEEP_DELETE,  # superseded secrets are forgotten
    "_events_contacts": KEEP_DELETE,  # erasure unlinks the subject from its contact
    "_events_contact_secrets": APPEND_ONLY,  # the key of a tenant's contact index
    "_events_cosignatures": APPEND_ONLY,  # witnesses' cosignatures of checkpoints
    "_events_campaign_receipt_lists": APPEND_ONLY,  # the subject ids of campaign receipts
}
ACCESS = "access"  # the API-key registry's events: append-only
# Working tables beside the ledger that change by design (no triggers): the service role
# creates and owns them, like the read models (docs/notes/access-security.md).
MUTABLE: dict[str, str] = {
    "_events_opt_out_counts": "burst-guard counters: incremented, old buckets deleted",
    "_events_webhook_deliveries": "downstream webhook outbox: each row's status moves on",
    "_events_webhook_positions": "how far the webhook fan-out got",
    "_events_webhook_subscriptions": "a tenant's subscriptions: changed and removed",
}


@dataclass
class Filled:
    """A database with a row in every ledger table."""

    storage: StorageSettings
    key_id: str
    revoked_key: str

    def table(self, suffix: str) -> str:
        if suffix == ACCESS:
            return "accessregistry_events" if self.storage.uses_postgres else "access_events"
        # PostgreSQL: consentledger_events…; SQLite: stored_events…
        return ("consentledger" if self.storage.uses_postgres else "stored") + suffix


def fill(storage: StorageSettings) -> Filled:
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        for n in range(5):  # enough leaves for stored Merkle nodes
            ledger.record(opt_in(f"+1415555020{n}", source_id=f"form-{n}"))
        ledger.record(replace(opt_in(ALICE, source_id="form-alice"), contact_id="cust-1"))
        ledger.receive_message(message(ALICE, "HELP"))  # an outbox row
        new_sealer(ledger).checkpoint_once()
        [head] = open_cosignature_store(ledger).recent_checkpoints(1)
        open_cosignature_store(ledger).add(head.tree_size, head.root_hash, "witness", "— w x")
        subject = ledger.state_of("acme", "whatsapp", ALICE).id
        now = datetime.now(UTC)
        delivery_table(ledger.recorder).add(
            Delivery(
                "acme", uuid.uuid4(), subject, uuid.uuid4(), "sent", "whatsapp", "w1", now, now
            )
        )
        gateway_secret_table(ledger.recorder).insert(
            StoredSecrets("acme", "twilio", "s1", "plain", "{}", b"salt")
        )
        create_side_tables(ledger)  # every table `schema create` makes, filled or not
        opt_out_counts(ledger.recorder)  # and the working tables, created where used
        WebhookOutbox(ledger.recorder)
        SubscriptionTable(ledger.recorder)
        CampaignReceipts(ledger).record(
            draft_receipt("acme", "c-1", "whatsapp", "marketing", 1, addresses=[ALICE]),
            recorded_by=None,
        )
    finally:
        ledger.close()
    with AccessRegistry(access_env(storage)) as registry:
        registry.issue("acme", [Role.INGEST])
        revoked = registry.issue("acme", [Role.ADMIN])
        key_id = revoked.split("_")[1]
        registry.revoke(key_id)
    return Filled(storage, key_id, revoked)


@pytest.fixture(scope="module")
def pg_filled(pg_server: str) -> Iterator[Filled]:
    from tests.support.postgres import fresh_database

    with fresh_database(pg_server) as url:
        yield fill(pg_settings(url))


@pytest.fixture(scope="module")
def sqlite_filled(tmp_path_factory: pytest.TempPathFactory) -> Filled:
    return fill(sqlite_settings(Path(tmp_path_factory.mktemp("ledger")) / "ledger.db"))


def _refusals() -> list[tuple[str, str]]:
    cases = [(table, op) for table, ops in DECISIONS.items() for op in ops]
    return [*cases, *((ACCESS, op) for op in APPEND_ONLY)]


def _statement(operation: str, table: str, column: str) -> str:
    """A change of every row of ``table`` (the test's own names: no injection)."""
    return {
        "UPDATE": "UPDATE " + table + " SET " + column + " = " + column,  # noqa: S608
        "DELETE": "DELETE FROM " + table,  # noqa: S608
        "TRUNCATE": "TRUNCATE " + table,
    }[operation]


def _first_column(cursor_description: object) -> str:
    return str(cursor_description[0][0])  # type: ignore[index]


@pytest.mark.parametrize(("suffix", "operation"), _refusals())
def test_postgres_refuses_changes_to_ledger_tables_even_to_a_superuser(
    pg_filled: Filled, suffix: str, operation: str
) -> None:
    url = pg_filled.storage.database_url.get_secret_value()  # type: ignore[union-attr]
    table = pg_filled.table(suffix)
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (True,)
        cur = conn.execute(f"SELECT * FROM {table} LIMIT 1")  # noqa: S608 - test's own names
        column = _first_column(cur.description)
        [before] = conn.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,)  # noqa: S608
        assert before > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(_statement(operation, table, column))  # type: ignore[arg-type]
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (before,)  # noqa: S608


@pytest.mark.parametrize(
    ("suffix", "operation"), [(t, op) for t, op in _refusals() if op != "TRUNCATE"]
)
def test_sqlite_refuses_changes_to_ledger_tables(
    sqlite_filled: Filled, suffix: str, operation: str
) -> None:
    table = sqlite_filled.table(suffix)
    conn = sqlite3.connect(sqlite_filled.storage.sqlite_path)
    try:
        cur = conn.execute(f"SELECT * FROM {table} LIMIT 1")  # noqa: S608
        column = _first_column(cur.description)
        [before] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        assert before > 0
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(_statement(operation, table, column))
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (before,)  # noqa: S608
    finally:
        conn.close()


def test_every_ledger_table_has_a_decision(pg_filled: Filled, sqlite_filled: Filled) -> None:
    decided = {pg_filled.table(s) for s in [*DECISIONS, ACCESS, *MUTABLE]}
    url = pg_filled.storage.database_url.get_secret_value()  # type: ignore[union-attr]
    with psycopg.connect(url) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND (tablename LIKE 'consentledger%' OR tablename LIKE 'accessregistry%')"
            )
        }
    assert tables == decided
    decided = {sqlite_filled.table(s) for s in [*DECISIONS, ACCESS, *MUTABLE]}
    conn3 = sqlite3.connect(sqlite_filled.storage.sqlite_path)
    try:
        tables = {
            name
            for (name,) in conn3.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND (name LIKE 'stored_events%' OR name = 'access_events')"
            )
        }
    finally:
        conn3.close()
    assert tables == decided


@pytest.mark.parametrize("backend", ["pg", "sqlite"])
def test_deleting_a_key_revocation_is_refused_and_the_key_stays_revoked(
    request: pytest.FixtureRequest, backend: str
) -> None:
    # Given an admin key that was revoked (its aggregate: issued v1, revoked v2)
    filled: Filled = request.getfixturevalue(f"{backend}_filled")
    table = filled.table(ACCESS)
    delete = f"DELETE FROM {table} WHERE originator_version = 2"  # noqa: S608
    # When someone with database access deletes the revocation event
    if backend == "pg":
        url = filled.storage.database_url.get_secret_value()  # type: ignore[union-attr]
        with (
            psycopg.connect(url, autocommit=True) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
        ):
            conn.execute(delete)  # type: ignore[arg-type]
    else:
        conn3 = sqlite3.connect(filled.storage.sqlite_path)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn3.execute(delete)
        conn3.close()
    # Then the database refused it, and the key is still refused
    with AccessRegistry(access_env(filled.storage)) as registry:
        assert registry.authenticate(filled.revoked_key) is None
