"""Workers that share a host: each kind has its own health and metrics port, a taken port
is one clear line naming the variable to set, and ``seal --every`` answers ``/healthz``
(the compose file's health check asks it)."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import httpx

from api.cli.worker_http import DEFAULT_PORTS
from tests.support.processes import clean_env, free_port, run_cli, start_cli


def test_each_worker_kind_has_a_port_of_its_own() -> None:
    assert set(DEFAULT_PORTS) == {"publish", "consume", "expire", "seal", "deliver"}
    assert len(set(DEFAULT_PORTS.values())) == len(DEFAULT_PORTS)
    assert 9100 not in DEFAULT_PORTS.values()  # the old shared default is nobody's


def test_a_taken_port_is_one_line_naming_the_variable_to_set(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(
            CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "l.db"),
            CONSENT_LEDGER_METRICS_PORT=str(port),
        )
        done = run_cli("expire", "--every", "60", env=env, cwd=tmp_path)
    assert done.returncode == 2
    refusal = [line for line in done.stderr.splitlines() if not line.startswith("{")]
    assert refusal == [
        f"consent-ledger expire: 127.0.0.1:{port} is taken (another process listens there); "
        "set CONSENT_LEDGER_METRICS_PORT to a free port for /healthz and /metrics, "
        "or to 0 for any free port"
    ]
    assert "Traceback" not in done.stderr


def test_seal_every_serves_healthz_and_metrics(tmp_path: Path) -> None:
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "l.db"))
    made = run_cli("keys", "signing-key", "--out", str(tmp_path / "k.pem"), env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    port = free_port()
    env |= {"CONSENT_LEDGER_SIGNING_KEY": str(tmp_path / "k.pem")}
    env |= {"CONSENT_LEDGER_METRICS_PORT": str(port)}
    log = tmp_path / "seal.log"
    sealer = start_cli("seal", "--every", "60", env=env, cwd=tmp_path, log=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert sealer.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "seal --every never served /healthz"
                time.sleep(0.1)
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
        assert "consent_ledger_checkpoint_age_seconds " in metrics.text  # the alert rules watch it
    finally:
        sealer.send_signal(signal.SIGTERM)
        assert sealer.wait(timeout=30) == 0
    listening = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if '"worker http listening"' in line
    ]
    assert [(x["kind"], x["port"]) for x in listening] == [("seal", port)]
