"""The real ``consent-ledger`` processes: keys, serve, SIGTERM, kill -9."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.support.processes import clean_env, free_port, run_cli, start_cli, wait_healthy

KEY_PATTERN = re.compile(r"^cl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")


def test_keys_create_prints_one_key_and_nothing_else(tmp_path: Path) -> None:
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "l.db"))
    created = run_cli(
        "keys", "create", "--tenant", "acme", "--roles", "ingest,campaign", env=env, cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    assert KEY_PATTERN.match(created.stdout.rstrip("\n"))
    assert created.stdout.count("\n") == 1
    refused = run_cli(
        "keys", "create", "--tenant", "acme", "--roles", "root", env=env, cwd=tmp_path
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "roles" in refused.stderr


def test_serve_runs_on_the_embedded_default_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = clean_env()
    key = run_cli(
        "keys", "create", "--tenant", "acme", "--roles", "ingest,campaign", env=env, cwd=tmp_path
    ).stdout.strip()
    port = free_port()
    log = tmp_path / "serve.log"
    process = start_cli("serve", "--port", str(port), env=env, cwd=tmp_path, log=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        headers = {"Authorization": f"Bearer {key}"}
        stop = httpx.post(
            f"{base}/v1/messages/inbound",
            headers=headers,
            json={"channel": "sms", "from": "+14155550100", "text": "STOP", "message_id": "SM1"},
        ).json()
        status = httpx.get(
            f"{base}/v1/subjects/sms/+14155550100?after={stop['position']}", headers=headers
        )
        assert status.json()["purposes"]["*"]["status"] == "opted_out"
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn finishes in-flight requests and the shutdown, then exits by the signal.
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    assert (tmp_path / "consent-ledger.db").exists()  # the documented default path
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert messages.index("api stopped") < messages.index("Application shutdown complete.")
    requests = [line for line in lines if line["message"] == "request"]
    assert requests
    assert all("+1415" not in json.dumps(line) for line in requests)


def test_kill_9_in_the_middle_of_writes_loses_no_acknowledged_event(
    tmp_path: Path, pg_url: str
) -> None:
    env = clean_env(DATABASE_URL=pg_url)
    key = run_cli(
        "keys", "create", "--tenant", "acme", "--roles", "ingest,auditor", env=env, cwd=tmp_path
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_cli("serve", "--port", str(port), env=env, cwd=tmp_path, log=tmp_path / "1.log")
    wait_healthy(base, process)
    acknowledged: dict[str, set[str]] = {}
    lock = threading.Lock()
    stop_writing = threading.Event()

    def write(worker: int) -> None:
        address = f"+1415555{worker:04d}"
        with httpx.Client(timeout=5) as client:
            for n in range(100_000):
                if stop_writing.is_set():
                    return
                try:
                    response = client.post(
                        f"{base}/v1/messages/inbound",
                        headers=headers,
                        json={
                            "channel": "whatsapp",
                            "from": address,
                            "text": "STOP" if n % 2 else "START",
                            "message_id": f"w{worker}-{n}",
                        },
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    with lock:
                        acknowledged.setdefault(address, set()).add(response.json()["event_id"])

    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for writer in writers:
        writer.start()
    time.sleep(1.5)
    process.kill()
    process.wait(timeout=10)
    stop_writing.set()
    for writer in writers:
        writer.join()
    assert sum(len(ids) for ids in acknowledged.values()) > 20

    restarted = start_cli(
        "serve", "--port", str(port), env=env, cwd=tmp_path, log=tmp_path / "2.log"
    )
    try:
        wait_healthy(base, restarted)
        for address, ids in acknowledged.items():
            history = httpx.get(
                f"{base}/v1/subjects/whatsapp/{address}/history", headers=headers
            ).json()
            stored = {event["event_id"] for event in history["events"]}
            assert ids <= stored
            versions = [event["version"] for event in history["events"]]
            assert versions == list(range(1, len(versions) + 1))
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=20)
