"""The production path as an operator runs it: ``serve``, ``publish`` and ``consume`` as
real processes on real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.commands import CaptureMethod, Evidence, RecordConsent, Source
from ledger.publishing.kafka import KafkaSettings
from ledger.publishing.positions import PublisherPositions
from projections.views import open_projections
from tests.conftest import pg_settings
from tests.support.kafka import Broker, read_topic, wait_until
from tests.support.pipeline import (
    addresses_of,
    assert_status_equals_fold,
    daily_counts,
    expected_daily,
)
from tests.support.processes import (
    clean_env,
    free_port,
    log_lines,
    run_cli,
    start_cli,
    wait_healthy,
)

TIMING = {
    "CONSENT_LEDGER_RECONCILE_SECONDS": "0.1",
    "CONSENT_LEDGER_PUBLISH_POLL_SECONDS": "0.2",
    "CONSENT_LEDGER_PUBLISH_LOCK_RETRY_SECONDS": "0.2",
    "CONSENT_LEDGER_READ_WAIT_SECONDS": "20",
    "CONSENT_LEDGER_METRICS_PORT": "0",  # each worker's health server on a free port
}


@dataclass
class Pipeline:
    tmp: Path
    env: dict[str, str]
    kafka: KafkaSettings
    pg_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: int = 0

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.starts += 1
        log = self.tmp / f"{name}-{self.starts}.log"
        process = start_cli(*(args or (name,)), env=self.env, cwd=self.tmp, log=log)
        self.processes[name] = process
        return process

    def log_lines(self, name: str) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for path in sorted(self.tmp.glob(f"{name}-*.log")):
            lines += log_lines(path)
        return lines


@pytest.fixture
def pipeline(tmp_path: Path, pg_url: str, broker: Broker) -> Iterator[Pipeline]:
    kafka = broker.settings()
    env = clean_env(DATABASE_URL=pg_url, **broker.env(kafka), **TIMING)
    running = Pipeline(tmp_path, env, kafka, pg_url)
    yield running
    for process in running.processes.values():
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def event(kind: str, address: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "channel": "whatsapp",
        "address": address,
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": {"kind": "api", "id": uuid4().hex},
        "evidence": {"method": "api"},
        **extra,
    }


def test_every_event_type_goes_from_http_through_kafka_back_to_http(pipeline: Pipeline) -> None:
    key = run_cli(
        "keys", "create", "--tenant", "acme", "--roles", "ingest,auditor",
        env=pipeline.env, cwd=pipeline.tmp,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = pipeline.start("serve", "serve", "--port", str(port))
    wait_healthy(base, serve)  # its start-up creates the tables the other two use
    pipeline.start("publish")
    pipeline.start("consume")
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def status(address: str, position: int) -> dict[str, Any]:
        response = client.get(f"/v1/subjects/whatsapp/{address}?after={position}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body["position"] >= 0
        return body

    def post_event(body: dict[str, Any]) -> int:
        response = client.post("/v1/events", json={"events": [body]})
        assert response.status_code == 200, response.text
        position: int = response.json()["results"][0]["position"]
        return position

    def inbound(address: str, text: str) -> int:
        response = client.post(
            "/v1/messages/inbound",
            json={"channel": "whatsapp", "from": address, "text": text, "message_id": uuid4().hex},
        )
        assert response.status_code == 200, response.text
        position: int = response.json()["position"]
        return position

    def ask(address: str) -> int:
        response = client.post(
            "/v1/optin-requests",
            json={
                "channel": "whatsapp",
                "address": address,
                "purposes": ["marketing"],
                "template": {"id": "welcome", "version": "2", "text": "Reply YES"},
                "business_name": "Acme",
            },
        )
        assert response.status_code == 201, response.text
        position: int = response.json()["position"]
        return position

    def marketing(address: str, position: int) -> str:
        status_now: str = status(address, position)["purposes"]["marketing"]["status"]
        return status_now

    a, b, c, d, e = (f"+1415555{n:04d}" for n in range(100, 105))
    # opted_in, then confirmation_sent (status unchanged), then opted_out (plain STOP)
    assert marketing(a, post_event(event("opted_in", a, purposes=["marketing"]))) == "opted_in"
    confirmed = post_event(event("confirmation_sent", a, purposes=["marketing"]))
    assert status(a, confirmed)["position"] == confirmed
    assert status(a, inbound(a, "STOP"))["purposes"]["*"]["status"] == "opted_out"
    # opt_in_requested, then opt_in_accepted
    assert marketing(b, ask(b)) == "pending"
    assert marketing(b, inbound(b, "YES")) == "opted_in"
    # opt_in_rejected
    ask(c)
    assert marketing(c, inbound(c, "NO")) == "rejected"
    # opt_in_request_undeliverable
    ask(d)
    undeliverable = post_event(event("opt_in_request_undeliverable", d))
    assert marketing(d, undeliverable) == "undeliverable"
    # opt_in_request_expired
    ask(e)
    assert marketing(e, post_event(event("opt_in_request_expired", e))) == "expired"
    # and every event of the ledger is on consent.events, as a CloudEvent of its type
    records = read_topic(pipeline.kafka.bootstrap_servers, pipeline.kafka.events_topic, expect=11)
    assert len(records) == 11
    types = {json.loads(r.value)["type"] for r in records}
    assert types == {
        "consent.opted_in",
        "consent.confirmation_sent",
        "consent.opted_out",
        "consent.opt_in_requested",
        "consent.opt_in_accepted",
        "consent.opt_in_rejected",
        "consent.opt_in_request_undeliverable",
        "consent.opt_in_request_expired",
    }
    client.close()


def write_batches(ledger: ConsentLedger, batches: int, per_batch: int, subjects: int) -> int:
    """Opt-ins and opt-outs in batches of one transaction each; returns the last position."""
    addresses = addresses_of(subjects)
    run = uuid4().hex[:8]
    last = 0
    for n in range(batches):
        commands = [
            RecordConsent(
                tenant="acme",
                channel="whatsapp",
                address=addresses[(n * per_batch + i) % subjects],
                type="opted_out" if (n + i) % 3 == 0 else "opted_in",
                purposes=("marketing",),
                occurred_at=datetime.now(UTC) - timedelta(seconds=1),
                source=Source("import", f"{run}-{n}-{i}"),
                evidence=Evidence(method=CaptureMethod.IMPORT),
            )
            for i in range(per_batch)
        ]
        last = max(r.position for r in ledger.record_batch(commands))
    return last


def test_kill_9_of_the_publisher_and_a_consumer_mid_stream_loses_and_doubles_nothing(
    pipeline: Pipeline,
) -> None:
    storage = pg_settings(pipeline.pg_url)
    ledger = ConsentLedger(storage.eventsourcing_env())
    projections = open_projections(ledger)
    try:
        pipeline.start("publish")
        pipeline.start("consume")
        # Given a stream of thousands of events
        write_batches(ledger, batches=10, per_batch=100, subjects=150)
        # When the publisher is killed in the middle of it, and restarted
        pipeline.processes["publish"].kill()
        write_batches(ledger, batches=10, per_batch=100, subjects=150)
        pipeline.start("publish")
        # and then a consumer is killed while it applies, and restarted
        status = projections.consent_status
        wait_until(lambda: status.applied_position() > 0, timeout=60, message="consuming")
        pipeline.processes["consume"].kill()
        last = write_batches(ledger, batches=10, per_batch=100, subjects=150)
        pipeline.start("consume")
        # Then every projection ends equal to the fold of the ledger, nothing applied twice
        for projection in projections.all():
            assert projection.wait_for(last, timeout=120), projection.name
        addresses = addresses_of(150)
        assert_status_equals_fold(status, ledger, addresses)
        assert daily_counts(projections.consent_daily) == expected_daily(ledger, addresses)
        assert sum(daily_counts(projections.consent_daily).values()) == 3000
    finally:
        ledger.close()


def test_publish_and_consume_stop_cleanly_on_sigterm(pipeline: Pipeline) -> None:
    storage = pg_settings(pipeline.pg_url)
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        publish = pipeline.start("publish")
        consume = pipeline.start("consume")
        first = write_batches(ledger, batches=1, per_batch=10, subjects=10)
        status = open_projections(ledger).consent_status
        assert status.wait_for(first, timeout=60)
        # (each worker answers its health and metrics probes while it runs)
        for name, metric in (("publish", "publisher_lag"), ("consume", "projection_position")):

            def listening(name: str = name) -> list[dict[str, Any]]:
                return [
                    x for x in pipeline.log_lines(name) if x["message"] == "worker http listening"
                ]

            wait_until(lambda: bool(listening()), timeout=60, message=f"{name} listening")
            base = f"http://127.0.0.1:{listening()[0]['port']}"
            wait_until(lambda base=base: httpx.get(f"{base}/healthz").status_code == 200)
            assert f"consent_ledger_{metric}" in httpx.get(f"{base}/metrics").text
        # When both get SIGTERM
        for process in (publish, consume):
            process.send_signal(signal.SIGTERM)
        # Then both exit 0 after storing where they got to
        assert publish.wait(timeout=30) == 0
        assert consume.wait(timeout=30) == 0
        assert any(x["message"] == "publisher stopped" for x in pipeline.log_lines("publish"))
        assert any(x["message"] == "consumer stopped" for x in pipeline.log_lines("consume"))
        # and a restarted publisher goes on from there, republishing nothing
        pipeline.start("publish")
        last = write_batches(ledger, batches=1, per_batch=5, subjects=10)
        positions = PublisherPositions(getattr(ledger.recorder, "datastore", None))
        topic = pipeline.kafka.events_topic
        wait_until(lambda: positions.load(topic) == last, message="the rest was published")
        # (asking for one more than expected: the read ends on its timeout with all there is)
        records = read_topic(pipeline.kafka.bootstrap_servers, topic, expect=16, timeout=3)
        positions = sorted(int(dict(r.headers)["ledger-position"]) for r in records)
        assert positions == list(range(1, 16))
        assert all("+1415" not in json.dumps(x) for x in pipeline.log_lines("publish"))
    finally:
        ledger.close()


def test_the_pipeline_refuses_to_start_without_postgresql(tmp_path: Path, broker: Broker) -> None:
    env = clean_env(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap)
    for command in ("publish", "consume"):
        refused = run_cli(command, env=env, cwd=tmp_path)
        assert refused.returncode == 2
        assert "DATABASE_URL is not set" in refused.stderr
