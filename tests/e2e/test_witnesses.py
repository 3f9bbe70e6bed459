"""Two ``consent-ledger witness`` processes cosign the checkpoints of a real ``serve``:
quorum reached, one witness down (the checkpoint does not count, the API says so, verify
refuses it), caught up again, and a forked log refused by both witnesses and by verify."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.attestation.checkpoint import Checkpoint, parse_text
from ledger.attestation.signing_keys import load_private_key
from ledger.crypto.signed_note import parse, verifier_key
from tests.support.processes import clean_env, free_port, run_cli, start_cli, wait_healthy

ORIGIN = "consent-ledger.test/log"
ALICE = "+14155550100"


class Witness:
    def __init__(self, tmp: Path, name: str, log_vkey: str) -> None:
        self.key = tmp / f"{name}.pem"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        self.tmp = tmp
        self.env = clean_env(
            CONSENT_LEDGER_WITNESS_NAME=f"witness.test/{name}",
            CONSENT_LEDGER_WITNESS_KEY=str(self.key),
            CONSENT_LEDGER_WITNESS_STATE=str(tmp / f"{name}.db"),
            CONSENT_LEDGER_WITNESS_LOGS=log_vkey,
            CONSENT_LEDGER_WITNESS_PORT=str(self.port),
        )
        assert run_cli("keys", "signing-key", "--out", str(self.key), env=self.env, cwd=tmp)
        printed = run_cli("witness", "--print-key", env=self.env, cwd=tmp)
        assert printed.returncode == 0, printed.stderr
        self.vkey = printed.stdout.strip()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_cli("witness", env=self.env, cwd=self.tmp, log=self.log)
        wait_healthy(self.url, self.process)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[str, str, list[Witness], Path]]:
    signing = tmp_path / "ledger.pem"
    assert run_cli("keys", "signing-key", "--out", str(signing), env=clean_env(), cwd=tmp_path)
    log_vkey = verifier_key(ORIGIN, load_private_key(signing).public_key())
    witnesses = [Witness(tmp_path, name, log_vkey) for name in ("w1", "w2")]
    for witness in witnesses:
        witness.start()
    env = clean_env(
        CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "ledger.db"),
        CONSENT_LEDGER_SIGNING_KEY=str(signing),
        CONSENT_LEDGER_LOG_ORIGIN=ORIGIN,
        CONSENT_LEDGER_SEAL_EVERY_SECONDS="0.5",
        CONSENT_LEDGER_WITNESSES="\n".join(f"{w.url} {w.vkey}" for w in witnesses),
        CONSENT_LEDGER_WITNESS_QUORUM="2",
        CONSENT_LEDGER_WITNESS_TIMEOUT_SECONDS="2",
    )
    key = run_cli(
        "keys", "create", "--tenant", "acme", "--roles", "ingest,auditor", env=env, cwd=tmp_path
    ).stdout.strip()
    port = free_port()
    serve = start_cli("serve", "--port", str(port), env=env, cwd=tmp_path, log=tmp_path / "s.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, serve)
        yield base, key, witnesses, signing
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        for witness in witnesses:
            if witness.process is not None and witness.process.poll() is None:
                witness.stop()


def say(base: str, key: str, text: str, message_id: str) -> None:
    answer = httpx.post(
        f"{base}/v1/messages/inbound",
        json={"channel": "whatsapp", "from": ALICE, "text": text, "message_id": message_id},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text


def latest_when(
    base: str, key: str, check: Any, timeout: float = 60, logs: Path | None = None
) -> dict[str, Any]:
    """The latest checkpoint once ``check`` holds; on a timeout, the processes' logs (in
    ``logs``) are part of the error: a witness that never cosigns says why there."""
    deadline = time.monotonic() + timeout
    latest: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = httpx.get(
            f"{base}/v1/checkpoints/latest", headers={"Authorization": f"Bearer {key}"}
        )
        if answer.status_code == 200:
            latest = answer.json()
            if check(latest):
                return latest
        time.sleep(0.2)
    tails = "".join(
        f"\n--- {log.name} (last 4,000 characters)\n{log.read_text(errors='replace')[-4000:]}"
        for log in (sorted(logs.glob("*.log")) if logs is not None else [])
    )
    raise TimeoutError(f"the checkpoint never became as expected: {latest}{tails}")


def verify(
    tmp: Path, base: str, key: str, witnesses: list[Witness]
) -> subprocess.CompletedProcess[str]:
    bundle = httpx.get(
        f"{base}/v1/subjects/whatsapp/{ALICE}/attestation",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert bundle.status_code == 200
    (tmp / "bundle.json").write_text(bundle.text)
    (tmp / "ledger.pub").write_bytes(httpx.get(f"{base}/v1/public-key?format=pem").content)
    args = [a for w in witnesses for a in ("--witness", w.vkey)]
    return run_cli(
        "verify",
        str(tmp / "bundle.json"),
        "--public-key",
        str(tmp / "ledger.pub"),
        *args,
        "--quorum",
        "2",
        env=clean_env(),
        cwd=tmp,
    )


def test_two_witnesses_cosign_one_down_then_back_and_a_fork_refused(
    setup: tuple[str, str, list[Witness], Path], tmp_path: Path
) -> None:
    base, key, witnesses, signing = setup
    w2 = witnesses[1]
    # Given an event, sealed and cosigned by both witnesses: the checkpoint counts
    say(base, key, "START", "m1")
    first = latest_when(base, key, lambda c: c["final"] and c["tree_size"] >= 1, logs=tmp_path)
    assert first["cosigned_by"] == ["witness.test/w1", "witness.test/w2"]
    assert first["quorum"] == "2 of 2 witnesses (quorum)"
    served = httpx.get(f"{base}/checkpoint")
    assert served.text == first["note"]
    assert len(parse(served.text).signatures) == 3  # the log's and two cosignatures
    ok = verify(tmp_path, base, key, witnesses)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "witnessed: 2 of 2 witnesses" in ok.stdout
    # When one witness stops (cleanly, on SIGTERM) and the log grows
    # (uvicorn finishes the shutdown, then exits by the signal, as serve does)
    assert w2.stop() in (0, -signal.SIGTERM)
    assert "witness stopped" in w2.log.read_text()
    say(base, key, "STOP", "m2")
    second = latest_when(base, key, lambda c: c["tree_size"] > first["tree_size"], logs=tmp_path)
    time.sleep(1.5)  # a few more passes: still one cosignature only
    second = latest_when(base, key, lambda c: c["tree_size"] > first["tree_size"], logs=tmp_path)
    # Then the new checkpoint does not count: the API says so, /checkpoint keeps the old one
    assert second["final"] is False
    assert second["cosigned_by"] == ["witness.test/w1"]
    assert second["latest_final_tree_size"] == first["tree_size"]
    assert httpx.get(f"{base}/checkpoint").text == first["note"]
    # And verify refuses a bundle on it for lack of the quorum
    refused = verify(tmp_path, base, key, witnesses)
    assert refused.returncode == 1
    assert "FAILED: the checkpoint is cosigned by witness.test/w1; the policy needs 2 of 2" in (
        refused.stdout
    )
    metrics = httpx.get(f"{base}/metrics").text
    assert (
        'consent_ledger_witness_submissions_total{outcome="unavailable",witness="witness.test/w2"}'
        in metrics
    )
    # When the witness comes back, it is caught up with a consistency proof and cosigns
    w2.start()
    caught_up = latest_when(
        base, key, lambda c: c["final"] and c["tree_size"] == second["tree_size"], logs=tmp_path
    )
    assert caught_up["cosigned_by"] == ["witness.test/w1", "witness.test/w2"]
    assert verify(tmp_path, base, key, witnesses).returncode == 0
    # A forked checkpoint, signed with the log's own key, is refused by both witnesses
    size = caught_up["tree_size"]
    forked = Checkpoint(ORIGIN, size + 1, bytes(32), parse_text(parse(caught_up["note"]).text).time)
    note = forked.sign(load_private_key(signing))
    for witness in witnesses:
        body = f"old {size}\n{base64.b64encode(bytes(32)).decode()}\n\n{note}"
        assert httpx.post(f"{witness.url}/add-checkpoint", content=body).status_code == 422
        same_size = Checkpoint(ORIGIN, size, bytes(32), forked.time).sign(load_private_key(signing))
        fork = httpx.post(f"{witness.url}/add-checkpoint", content=f"old {size}\n\n{same_size}")
        assert fork.status_code == 409
        rolled_back = httpx.post(f"{witness.url}/add-checkpoint", content=f"old 0\n\n{note}")
        assert (rolled_back.status_code, rolled_back.text) == (409, f"{size}\n")
        assert httpx.get(f"{witness.url}/witness").json()["logs"] == {ORIGIN: size}
    # And verify refuses a bundle whose checkpoint was swapped for the fork with the
    # real cosignatures copied onto it: they do not verify on the forked text
    bundle = json.loads((tmp_path / "bundle.json").read_text())
    cosignature_lines = caught_up["note"].split("\n\n", 1)[1].splitlines(keepends=True)[1:]
    bundle["checkpoint"]["note"] = same_size + "".join(cosignature_lines)
    (tmp_path / "forked.json").write_text(json.dumps(bundle))
    forked_check = run_cli(
        "verify",
        str(tmp_path / "forked.json"),
        "--public-key",
        str(tmp_path / "ledger.pub"),
        *[a for w in witnesses for a in ("--witness", w.vkey)],
        "--quorum",
        "2",
        env=clean_env(),
        cwd=tmp_path,
    )
    assert forked_check.returncode == 1
    assert "FAILED" in forked_check.stdout


def test_serve_refuses_to_start_with_a_malformed_witness_setting(tmp_path: Path) -> None:
    env = clean_env(
        CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "ledger.db"),
        CONSENT_LEDGER_WITNESSES="witness.example:8100 not-a-key",
        CONSENT_LEDGER_WITNESS_QUORUM="1",
    )
    serve = start_cli(
        "serve", "--port", str(free_port()), env=env, cwd=tmp_path, log=tmp_path / "s.log"
    )
    assert serve.wait(timeout=60) != 0
    assert "'witness.example:8100' is not an http(s) URL" in (tmp_path / "s.log").read_text()
