"""The attestation command line as an operator and an auditor run it: signing-key, seal and
verify as real processes, on real bundles from the HTTP API and real PostgreSQL."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.application.consent_ledger import ConsentLedger
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api, issue_keys
from tests.support.commands import opt_in
from tests.support.processes import CLI, clean_env, run_cli, start_cli

ALICE = "+14155550100"
ATTESTATION = f"/v1/subjects/whatsapp/{ALICE}/attestation"


def test_signing_key_writes_the_private_key_and_prints_only_the_public_one(
    tmp_path: Path,
) -> None:
    out = tmp_path / "signing.pem"
    created = run_cli("keys", "signing-key", "--out", str(out), env=clean_env(), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert created.stdout.endswith("-----END PUBLIC KEY-----\n")
    assert "PRIVATE" not in created.stdout
    assert out.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    # A key is never overwritten
    again = run_cli("keys", "signing-key", "--out", str(out), env=clean_env(), cwd=tmp_path)
    assert again.returncode == 2
    assert again.stdout == ""
    assert "never overwritten" in again.stderr


def test_seal_needs_a_signing_key(tmp_path: Path) -> None:
    refused = run_cli("seal", "--once", env=clean_env(), cwd=tmp_path)
    assert refused.returncode == 2
    assert "CONSENT_LEDGER_SIGNING_KEY" in refused.stderr


@pytest.fixture
def pg_api(pg_storage: StorageSettings) -> Iterator[Api]:
    keys = issue_keys(pg_storage)
    with TestClient(create_app(ServeSettings(read_wait_seconds=2.0), pg_storage)) as client:
        yield Api(client, keys)


def write_keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "signing.pem", tmp_path / "ledger.pub"
    created = run_cli("keys", "signing-key", "--out", str(private), env=clean_env(), cwd=tmp_path)
    public.write_text(created.stdout)
    return private, public


def verify_all(bundles: dict[str, Any], public: Path, tmp_path: Path) -> dict[str, tuple[int, str]]:
    """Run ``consent-ledger verify`` on each bundle, all processes at once."""
    running = {}
    for name, bundle in bundles.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(bundle))
        running[name] = subprocess.Popen(
            [CLI, "verify", str(path), "--public-key", str(public)],
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    for name, process in running.items():
        stdout, _ = process.communicate(timeout=60)
        results[name] = (process.returncode, stdout)
    return results


def test_an_auditor_verifies_a_real_bundle_offline_and_every_tampering_fails(
    tmp_path: Path, pg_api: Api, pg_url: str
) -> None:
    # Given a history recorded through the API and sealed by `consent-ledger seal --once`
    private, public = write_keys(tmp_path)
    for text, message_id in (("START", "w1"), ("STOP", "w2"), ("START", "w3")):
        sent = pg_api.client.post(
            "/v1/messages/inbound",
            json={"channel": "whatsapp", "from": ALICE, "text": text, "message_id": message_id},
            headers=pg_api.headers(),
        )
        assert sent.status_code == 200, sent.text
    env = clean_env(DATABASE_URL=pg_url, CONSENT_LEDGER_SIGNING_KEY=str(private))
    sealed = run_cli("seal", "--once", env=env, cwd=tmp_path)
    assert sealed.returncode == 0, sealed.stderr
    log = [json.loads(line) for line in sealed.stderr.splitlines() if line.startswith("{")]
    assert any(line["message"] == "sealed" and line["tree_size"] == 3 for line in log)
    bundle = pg_api.client.get(ATTESTATION, headers=pg_api.headers("auditor")).json()

    # When the auditor verifies it, and copies of it tampered with in every way
    def changed(change: Any) -> dict[str, Any]:
        copy = json.loads(json.dumps(bundle))
        change(copy)
        return copy

    size = bundle["checkpoint"]["tree_size"]
    results = verify_all(
        {
            "genuine": bundle,
            "tampered": changed(lambda b: b["events"][1].update(all_purposes=False)),
            "removed": changed(lambda b: b["events"].pop(1)),
            "reordered": changed(lambda b: b["events"].reverse()),
            "forged": changed(
                lambda b: b["checkpoint"].update(
                    note=b["checkpoint"]["note"].replace(f"\n{size}\n", f"\n{size + 5}\n")
                )
            ),
        },
        public,
        tmp_path,
    )
    # Then the genuine bundle verifies with one line, and each tampered one fails saying why
    code, out = results["genuine"]
    assert code == 0
    assert out.count("\n") == 1
    assert out.startswith("OK: 3 events")
    expected = {
        "tampered": "event v2 (",
        "removed": "v2 is missing: the chain jumps from v1 to v3",
        "reordered": "event v3 (",
        "forged": "checkpoint: the signature",
    }
    for name, words in expected.items():
        code, out = results[name]
        assert code == 1, (name, out)
        assert out.startswith("FAILED: ")
        assert words in out, (name, out)

    # When a superuser alters the second event behind the ledger's back
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE consentledger_events DISABLE TRIGGER consentledger_events_append_only"
        )
        conn.execute(
            "UPDATE consentledger_events SET state = convert_to(replace(convert_from(state, "
            "'UTF8'), '\"all_purposes\":true', '\"all_purposes\":false'), 'UTF8') "
            "WHERE originator_version = 2"
        )
    # Then the next bundle says which event breaks the chain, and verify fails on it
    after = pg_api.client.get(ATTESTATION, headers=pg_api.headers("auditor")).json()
    assert after["verification"]["verified"] is False
    assert after["verification"]["failure"]["version"] == 2
    code, out = verify_all({"after": after}, public, tmp_path)["after"]
    assert code == 1
    assert out.startswith("FAILED: event v2 (")
    assert "hash does not match its contents" in out


def wait_until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.05)


def test_seal_every_keeps_sealing_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    private, _ = write_keys(tmp_path)
    database = tmp_path / "ledger.db"
    env = clean_env(
        CONSENT_LEDGER_SQLITE_PATH=str(database), CONSENT_LEDGER_SIGNING_KEY=str(private)
    )
    log = tmp_path / "seal.log"
    process = start_cli("seal", "--every", "0.1", env=env, cwd=tmp_path, log=log)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]

    try:
        wait_until(lambda: any(line["message"] == "sealed" for line in lines()))
        # When an event is recorded while it runs, the next pass seals it
        storage = StorageSettings(database_url=None, sqlite_path=database)
        with ConsentLedger(storage.eventsourcing_env()) as ledger:
            ledger.record(opt_in(ALICE))
        wait_until(lambda: any(line.get("tree_size") == 1 for line in lines()))
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert code == 0
    assert lines()[-1]["message"] == "sealer stopped"
    assert ALICE not in log.read_text()
