"""README's production block (``docs/readme/production.sh``) run as written: every
process on one host, real PostgreSQL, a real Kafka-protocol broker, an event through.

Only the two ``export`` lines are pointed at this test's database and broker (a broker of
its own, so the default topic names are this test's alone); the script runs unchanged,
with the installed ``consent-ledger`` on ``PATH``. Its fixed ports (8000 for ``serve``,
9101/9111 for the publishers, 9102 and 9103 for a consumer and the expirer) must be free.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx
import psutil
import pytest

from tests.support.kafka import Broker, read_topic, start_broker, wait_until
from tests.support.processes import CLI, clean_env, log_lines, run_cli

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ROOT / "docs" / "readme" / "production.sh"
API = "http://127.0.0.1:8000"
WORKER_PORTS = {"publish": 9101, "standby publish": 9111, "consume": 9102, "expire": 9103}


def as_written_for(database_url: str, bootstrap: str) -> str:
    """The script with only its two ``export`` lines pointed elsewhere."""
    lines = PRODUCTION.read_text().splitlines(keepends=True)
    assert lines[0].startswith("export DATABASE_URL=")
    assert lines[1].startswith("export KAFKA_BOOTSTRAP_SERVERS=")
    lines[0] = f"export DATABASE_URL='{database_url}'\n"
    lines[1] = f"export KAFKA_BOOTSTRAP_SERVERS={bootstrap}\n"
    return "".join(lines)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def own_broker() -> Iterator[Broker]:
    started = start_broker()
    yield started
    started.process.terminate()
    started.process.wait(timeout=10)


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def group(pgid: int) -> list[int]:
    """The live processes of a process group (zombies have exited: they are not)."""
    found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    live = []
    for pid in map(int, found.stdout.split()):
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                live.append(pid)
    return live


def test_the_production_block_runs_as_written_on_one_host(
    tmp_path: Path, pg_url: str, own_broker: Broker
) -> None:
    busy = [p for p in (8000, *WORKER_PORTS.values()) if not port_is_free(p)]
    assert not busy, f"the README's ports {busy} are taken on this machine by something else"
    env = clean_env(PATH=f"{Path(CLI).parent}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "processes.log"
    with log.open("wb") as out:
        shell = subprocess.Popen(
            ["bash", "-c", as_written_for(pg_url, own_broker.bootstrap)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group: one signal stops them all
        )
    try:
        # Every process is up: the API and each worker's health on its documented port
        wait_until(lambda: healthy(f"{API}/healthz"), timeout=90, message="serve")
        for kind, port in WORKER_PORTS.items():
            url = f"http://127.0.0.1:{port}/healthz"
            wait_until(lambda url=url: healthy(url), timeout=90, message=kind)

        # The second consumer's port is any free one: its health is found through its log
        def consumer_ports() -> list[int]:
            listening = [x for x in log_lines(log) if x["message"] == "worker http listening"]
            return sorted(x["port"] for x in listening if x["kind"] == "consume")

        wait_until(lambda: len(consumer_ports()) >= 2, timeout=90, message="second consumer")
        consumers = consumer_ports()
        assert len(consumers) == 2
        assert consumers[0] != consumers[1]
        assert 9102 in consumers  # the other one took any free port (0)
        other = next(p for p in consumers if p != 9102)
        wait_until(lambda: healthy(f"http://127.0.0.1:{other}/healthz"), message="consumer 2")
        assert "Address already in use" not in log.read_text()

        # An event goes in through the API and comes out of the consumers' read model
        keys = dict(env, DATABASE_URL=pg_url, KAFKA_BOOTSTRAP_SERVERS=own_broker.bootstrap)
        created = run_cli(
            "keys", "create", "--tenant", "acme", "--roles", "ingest", env=keys, cwd=tmp_path
        )
        assert created.returncode == 0, created.stderr
        client = httpx.Client(
            base_url=API, headers={"Authorization": f"Bearer {created.stdout.strip()}"}, timeout=60
        )
        recorded = client.post(
            "/v1/messages/inbound",
            json={
                "channel": "whatsapp",
                "from": "+14155550100",
                "text": "STOP",
                "message_id": uuid4().hex,
                "occurred_at": datetime.now(UTC).isoformat(),
            },
        )
        assert recorded.status_code == 200, recorded.text
        answer = recorded.json()
        wait_until(
            lambda: (
                client.get(
                    f"/v1/subjects/whatsapp/+14155550100?after={answer['position']}"
                ).status_code
                == 200
            ),
            timeout=90,
            message="the read model",
        )
        status = client.get("/v1/subjects/whatsapp/+14155550100").json()
        assert status["purposes"]["*"]["status"] == "opted_out"
        # ... through Kafka, not only through the consumers' healing from the ledger
        records = read_topic(own_broker.bootstrap, "consent.events", expect=1, timeout=60)
        assert answer["event_id"] in {json.loads(r.value)["id"] for r in records}
        # ... and the API is ready, the publisher caught up
        wait_until(
            lambda: healthy(f"{API}/readyz"),
            timeout=60,
            message=f"/readyz: {httpx.get(f'{API}/readyz', timeout=10).text}",
        )
        ready = httpx.get(f"{API}/readyz", timeout=10).json()
        assert ready["checks"]["publisher"]["ok"] is True
        assert ready["checks"]["publisher"]["published_position"] >= answer["position"]
        # ... which the workers' /healthz report too
        for port in (WORKER_PORTS["publish"], WORKER_PORTS["consume"]):
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
            assert health["publisher"]["ok"] is True
            assert health["publisher"]["ledger_position"] >= answer["position"]
    finally:
        os.killpg(shell.pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while (left := group(shell.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        shell.wait(timeout=10)
    # Every process stopped on SIGTERM, cleanly
    assert not left, "processes of the block outlived SIGTERM by a minute"
    assert "Traceback" not in log.read_text()
