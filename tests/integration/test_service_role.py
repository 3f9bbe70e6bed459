"""The processes run as a service role that cannot change or remove a ledger row.

docs/sql/roles.sql creates an owner and a service role on the real server; the owner
runs ``consent-ledger schema create --grant-to <service>``; ``keys create``, ``serve``
(with real writes: events, messages, an opt-in request, settings, an erasure), the
``publish``, ``consume`` and ``deliver`` workers, ``seal`` and ``expire`` then run as the
service role. Afterwards the service role is refused
every UPDATE, DELETE and TRUNCATE of a ledger row, and every way around the triggers
(dropping or disabling them, replacing their function, dropping a table).
"""

from __future__ import annotations

import re
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.sql import SQL, Identifier

from tests.support.kafka import Broker
from tests.support.processes import clean_env, free_port, run_cli, start_cli, wait_healthy

ROLES_SQL = Path(__file__).parents[2] / "docs" / "sql" / "roles.sql"
ALICE, BOB = "+14155550100", "+14155550101"

# What the service role may still do, by table: everything else is refused.
LEDGER_TABLES = {
    "consentledger_events": set(),
    "consentledger_events_receipts": set(),
    "consentledger_events_merkle_leaves": set(),
    "consentledger_events_merkle_nodes": set(),
    "consentledger_events_checkpoints": set(),
    "consentledger_events_deliveries": set(),
    "accessregistry_events": set(),
    "consentledger_events_subject_keys": {"DELETE"},  # erasure
    "consentledger_events_outbox": {"DELETE"},  # erasure
    "consentledger_events_gateway_secrets": {"DELETE"},  # superseded secrets
    "consentledger_events_contacts": {"DELETE"},  # erasure unlinks the subject
    "consentledger_events_contact_secrets": set(),
    "consentledger_events_cosignatures": set(),
    "consentledger_events_campaign_receipt_lists": set(),
}


@dataclass
class Roles:
    owner: str
    service: str
    database: str
    server: str

    def url(self, role: str) -> str:
        return make_conninfo(self.server, user=role, dbname=self.database)


def run_roles_sql(server: str, names: dict[str, str]) -> None:
    """docs/sql/roles.sql as psql runs it (``:"name"`` variables, ``\\connect``)."""
    text = ROLES_SQL.read_text()
    for name, value in names.items():
        text = text.replace(f':"{name}"', '"' + value.replace('"', '""') + '"')
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("--")]
    conn = psycopg.connect(server, autocommit=True)
    try:
        statement = ""
        for line in lines:
            if line.startswith("\\connect "):
                conn.close()
                conn = psycopg.connect(
                    make_conninfo(server, dbname=line.split()[1].strip('"')), autocommit=True
                )
                continue
            statement += line + "\n"
            if line.rstrip().endswith(";"):
                conn.execute(statement)
                statement = ""
        assert not statement.strip(), "an unterminated statement in roles.sql"
    finally:
        conn.close()


@pytest.fixture
def roles(pg_server: str) -> Iterator[Roles]:
    suffix = uuid.uuid4().hex[:8]
    names = {
        "owner": f"cl_owner_{suffix}",
        "service": f"cl_service_{suffix}",
        "database": f"cl_roles_{suffix}",
    }
    run_roles_sql(pg_server, names)
    try:
        yield Roles(names["owner"], names["service"], names["database"], pg_server)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{names["database"]}" WITH (FORCE)')
            for role in (names["service"], names["owner"]):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _run(*args: str, env: dict[str, str], cwd: Path) -> str:
    done = run_cli(*args, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_services_run_as_a_role_that_cannot_change_the_ledger(
    roles: Roles, tmp_path: Path, broker: Broker
) -> None:
    # Given the schema created by the owner, the service role granted
    owner_env = clean_env(DATABASE_URL=roles.url(roles.owner))
    _run("schema", "create", "--grant-to", roles.service, env=owner_env, cwd=tmp_path)
    env = clean_env(
        DATABASE_URL=roles.url(roles.service),
        CONSENT_LEDGER_WORKERS="1",
        CONSENT_LEDGER_METRICS_PORT="0",
        CONSENT_LEDGER_PUBLISH_POLL_SECONDS="0.2",
        CONSENT_LEDGER_RECONCILE_SECONDS="0.2",
        CONSENT_LEDGER_READ_WAIT_SECONDS="30",
        **broker.env(broker.settings()),
    )
    # When keys are issued, the API writes, the publisher and the consumers follow, and
    # the sealer runs: all as the service role
    ingest = _run(
        "keys", "create", "--tenant", "acme", "--roles", "ingest,auditor", env=env, cwd=tmp_path
    )
    admin = _run("keys", "create", "--tenant", "acme", "--roles", "admin", env=env, cwd=tmp_path)
    port = free_port()
    processes = [
        start_cli(*args, env=env, cwd=tmp_path, log=tmp_path / f"{args[0]}.log")
        for args in (("serve", "--port", str(port)), ("publish",), ("consume",), ("deliver",))
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, processes[0], timeout=60)
        auth = {"Authorization": f"Bearer {ingest}"}
        writes = _writes(base, auth, {"Authorization": f"Bearer {admin}"})
        for response in writes:
            assert response.status_code < 300, (response.request.url, response.text)
        # the read model (kept by `consume`, from what `publish` sent) catches up
        last = int(writes[0].json()["results"][0]["position"])
        status = httpx.get(
            f"{base}/v1/subjects/whatsapp/{ALICE}?after={last}", headers=auth, timeout=60
        )
        assert status.status_code == 200, status.text
        assert status.json()["purposes"]["marketing"]["status"] == "opted_in"
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    key_file = tmp_path / "signing.key"
    _run("keys", "signing-key", "--out", str(key_file), env=env, cwd=tmp_path)
    sealed = run_cli(
        "seal", "--once", env={**env, "CONSENT_LEDGER_SIGNING_KEY": str(key_file)}, cwd=tmp_path
    )
    assert sealed.returncode == 0, sealed.stderr
    expired = run_cli("expire", env=env, cwd=tmp_path)  # one pass (nothing is due yet)
    assert expired.returncode == 0, expired.stderr
    for name in ("serve", "publish", "consume", "deliver"):
        log = (tmp_path / f"{name}.log").read_text()
        assert "permission denied" not in log, log[-2000:]
        assert "must be owner" not in log, log[-2000:]
    # Then the service role can change or remove no ledger row, nor get around the triggers
    with psycopg.connect(roles.url(roles.service), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (roles.service,)
        owned = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
            (roles.owner,),
        ).fetchall()
        assert {name for (name,) in owned} == set(LEDGER_TABLES)  # the owner's are all here
        for table, allowed in LEDGER_TABLES.items():
            name = Identifier(table)
            column = Identifier(_first_column(conn, table))
            count = _count(conn, table)
            if table.endswith("events"):
                assert count > 0, table  # UPDATE is granted there: the trigger must refuse it
            for operation, statement in (
                ("UPDATE", SQL("UPDATE {} SET {} = {}").format(name, column, column)),
                ("DELETE", SQL("DELETE FROM {}").format(name)),
                ("TRUNCATE", SQL("TRUNCATE {}").format(name)),
                ("ALTER", SQL("ALTER TABLE {} DISABLE TRIGGER ALL").format(name)),
                ("DROP", SQL("DROP TABLE {}").format(name)),
            ):
                if operation in allowed:
                    continue
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            assert _count(conn, table) == count, table
        for text in (
            "DROP FUNCTION consent_ledger_refuse_change() CASCADE",
            "CREATE OR REPLACE FUNCTION consent_ledger_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
            "DROP TRIGGER accessregistry_events_no_update_delete ON accessregistry_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(SQL(text))
    # And the owner is refused too: only the triggers' removal could change a row
    with (
        psycopg.connect(roles.url(roles.owner), autocommit=True) as owner,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        owner.execute("DELETE FROM consentledger_events")


def _first_column(conn: psycopg.Connection[tuple[object, ...]], table: str) -> str:
    cur = conn.execute(SQL("SELECT * FROM {} LIMIT 0").format(Identifier(table)))
    assert cur.description is not None
    return str(cur.description[0].name)


def _count(conn: psycopg.Connection[tuple[object, ...]], table: str) -> int:
    row = conn.execute(SQL("SELECT count(*) FROM {}").format(Identifier(table))).fetchone()
    assert row is not None
    return int(str(row[0]))


def _writes(base: str, ingest: dict[str, str], admin: dict[str, str]) -> list[httpx.Response]:
    event = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": ALICE,
        "purposes": ["marketing"],
        "occurred_at": "2026-11-21T10:00:00Z",
        "source": {"kind": "web_form", "id": "form-1"},
        "evidence": {"method": "web_form", "text": "I agree", "ip": "203.0.113.9"},
    }
    client = httpx.Client(base_url=base, timeout=30)
    twilio = {"auth_token": "tok-1", "webhook_url": "https://ledger.example.com/t"}
    responses = [
        client.post("/v1/events", headers=ingest, json={"events": [event]}),
        client.post(
            "/v1/messages/inbound",
            headers=ingest,
            json={"channel": "sms", "from": BOB, "text": "HELP", "message_id": "SM1"},
        ),
        client.post(
            "/v1/optin-requests",
            headers=ingest,
            json={
                "channel": "whatsapp",
                "address": BOB,
                "purposes": ["marketing"],
                "template": {"id": "welcome", "version": "2", "text": "Reply YES"},
                "business_name": "Acme",
            },
        ),
        client.put("/v1/tenants/acme/gateways/twilio", headers=admin, json=twilio),
        # a second configuration supersedes the first: its secrets row is deleted
        client.put(
            "/v1/tenants/acme/gateways/twilio",
            headers=admin,
            json={**twilio, "auth_token": "tok-2"},
        ),
        client.delete(
            "/v1/subjects/whatsapp/" + BOB + "/personal-data?reason=gdpr_art17", headers=admin
        ),
    ]
    history = client.get(f"/v1/subjects/whatsapp/{ALICE}/history", headers=ingest)
    assert re.search(r'"type":\s*"opted_in"', history.text), history.text
    return [*responses, history]
