"""Go's golang.org/x/mod/sumdb/tlog checks the tiles, checkpoints and proofs the ledger serves.

A real ``consent-ledger serve`` (sealing in-process) on each backend; a tiny verifier
built with Debian's Go (tests/support/go_tlog_verifier) fetches ``/checkpoint`` and the
tiles, verifies the log's signature with the published verifier key, and proves and
checks inclusion of leaves and consistency with an earlier checkpoint.
"""

from __future__ import annotations

import base64
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.go_tlog import build_verifier
from tests.support.processes import clean_env, free_port, run_cli, start_cli, wait_healthy


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_verifier(tmp_path_factory.mktemp("go"))


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A running ``serve`` that seals every half second, and an ingest+auditor key."""
    settings = {"CONSENT_LEDGER_SQLITE_PATH": str(tmp_path / "ledger.db")}
    if request.param == "postgres":
        settings = {"DATABASE_URL": request.getfixturevalue("pg_url")}
    key_file = tmp_path / "signing.pem"
    env = clean_env(
        **settings,
        CONSENT_LEDGER_SIGNING_KEY=str(key_file),
        CONSENT_LEDGER_SEAL_EVERY_SECONDS="0.5",
        CONSENT_LEDGER_WORKERS="1",
    )
    assert (
        run_cli("keys", "signing-key", "--out", str(key_file), env=env, cwd=tmp_path).returncode
        == 0
    )
    key = run_cli(
        "keys", "create", "--tenant", "acme", "--roles", "ingest,auditor", env=env, cwd=tmp_path
    ).stdout.strip()
    port = free_port()
    process = start_cli("serve", "--port", str(port), env=env, cwd=tmp_path, log=tmp_path / "s.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield base, key
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def post_opt_ins(base: str, key: str, start: int, count: int) -> None:
    events = [
        {
            "type": "opted_in",
            "channel": "whatsapp",
            "address": f"+1415555{n:04d}",
            "purposes": ["marketing"],
            "occurred_at": "2026-11-21T09:00:00Z",
            "source": {"kind": "web_form", "id": f"form-{n}"},
            "evidence": {"method": "web_form", "text": "I agree"},
        }
        for n in range(start, start + count)
    ]
    answer = httpx.post(
        f"{base}/v1/events",
        json={"events": events},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text


def checkpoint_of_size(base: str, size: int, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = httpx.get(f"{base}/checkpoint")
        if answer.status_code == 200 and int(answer.text.split("\n")[1]) >= size:
            return answer.text.split("\n")
        time.sleep(0.2)
    raise TimeoutError(f"no checkpoint of {size} leaves within {timeout} s")


def leaves_of(base: str, key: str, number: int) -> list[str]:
    """``index:leaf hash`` of one subject's events, from its attestation bundle."""
    bundle = httpx.get(
        f"{base}/v1/subjects/whatsapp/+1415555{number:04d}/attestation",
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    ).json()
    return [f"{e['leaf_index']}:{e['leaf_hash']}" for e in bundle["events"]]


def test_go_sumdb_tlog_verifies_the_served_tiles_and_proofs(
    server: tuple[str, str], verifier: Path
) -> None:
    base, key = server
    # Given 100 events, sealed: the first checkpoint an auditor kept
    post_opt_ins(base, key, 0, 100)
    old = checkpoint_of_size(base, 100)
    old_size, old_root = int(old[1]), old[2]
    # And 200 more (a full level-0 tile, a partial one and a level-1 tile)
    post_opt_ins(base, key, 100, 100)
    post_opt_ins(base, key, 200, 100)
    checkpoint_of_size(base, 300)
    vkey = httpx.get(f"{base}/v1/public-key").json()["verifier_key"]
    leaves = [leaf for n in (0, 7, 255, 256, 299) for leaf in leaves_of(base, key, n)]
    assert len(leaves) == 5
    # When Go's tlog proves and checks them from the tiles
    run = subprocess.run(
        [str(verifier), base, vkey, str(old_size), old_root, *leaves],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then every inclusion and the consistency with the old checkpoint verify
    assert run.returncode == 0, run.stderr
    assert "5 inclusion proofs; consistency from 100" in run.stdout
    # And a leaf hash that is not in the log fails there too
    index = leaves[0].split(":")[0]
    forged = f"{index}:{'00' * 32}"
    refused = subprocess.run(
        [str(verifier), base, vkey, "0", "", forged], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1
    assert "FAILED" in refused.stderr
    # And an old root the log never had is not consistent with it
    wrong_root = base64.b64encode(bytes(32)).decode()
    inconsistent = subprocess.run(
        [str(verifier), base, vkey, str(old_size), wrong_root, leaves[0]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert inconsistent.returncode == 1
    assert "consistency" in inconsistent.stderr
