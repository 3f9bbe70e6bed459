"""The broker paused (SIGSTOP, then SIGCONT) under steady traffic: the API keeps
accepting (the ledger is the source of truth), the publisher retries with growing waits
and catches up, the projections end equal to the fold of the ledger, and no record is
missing from ``consent.events`` (distinct event ids counted by an independent reader)."""

from __future__ import annotations

import json
import os
import signal
import time

from ledger.application.consent_ledger import ConsentLedger
from ledger.publishing.positions import PublisherPositions
from projections.views import open_projections
from tests.conftest import pg_settings
from tests.support.fleet import Fleet, metric, own_broker, pipeline_fleet, worker_base
from tests.support.kafka import Broker, read_topic, wait_until
from tests.support.pipeline import assert_status_equals_fold
from tests.support.traffic import Traffic

PAUSE_SECONDS = 10
__all__ = ["own_broker", "pipeline_fleet"]  # fixtures


def ledger_positions(ledger: ConsentLedger) -> set[int]:
    return {n.id for n in ledger.recorder.select_notifications(start=None, limit=1_000_000)}


def test_a_paused_broker_loses_nothing_and_the_pipeline_catches_up(
    pipeline_fleet: Fleet, own_broker: Broker, pg_url: str
) -> None:
    fleet = pipeline_fleet
    key = fleet.key("ingest,campaign,auditor")
    base = fleet.serve()
    fleet.start("publish")
    fleet.start("consume")
    publisher = worker_base(fleet, "publish")
    ledger = ConsentLedger(pg_settings(pg_url).eventsourcing_env())
    try:
        traffic = Traffic(base, key, rate=30, subjects=120).start()
        wait_until(lambda: traffic.sent() >= 60, timeout=60, message="traffic")
        # When the broker stops answering for a while, traffic going on
        os.kill(own_broker.process.pid, signal.SIGSTOP)
        before = traffic.sent()
        time.sleep(PAUSE_SECONDS)
        during = traffic.sent() - before
        os.kill(own_broker.process.pid, signal.SIGCONT)
        wait_until(lambda: traffic.sent() >= before + during + 60, timeout=60, message="after")
        traffic.stop()
        # Then the API kept accepting throughout
        assert traffic.failures == []
        assert during >= PAUSE_SECONDS * 10, f"only {during} requests answered during the pause"
        # ... the publisher failed, waited longer each time, and caught up
        failed = [
            x for x in fleet.log_lines("publish") if x["message"].startswith("publishing failed")
        ]
        assert failed, "the publisher never noticed the broker was gone"
        for x in failed:  # the wait doubles with each failure in a row, up to the cap
            assert x["retry_in_seconds"] == min(0.5 * 2 ** (x["failures_in_a_row"] - 1), 4)
        assert metric(publisher, "consent_ledger_publisher_retries_total") >= len(failed)
        head = ledger.recorder.max_notification_id() or 0
        assert head >= traffic.last_position > 0
        datastore = getattr(ledger.recorder, "datastore", None)
        positions = PublisherPositions(datastore)  # type: ignore[arg-type]
        wait_until(
            lambda: positions.load("consent.events") >= head, timeout=120, message="caught up"
        )
        # ... the projections equal the fold of the ledger
        projections = open_projections(ledger)
        assert projections.consent_status.wait_for(head, timeout=120)
        assert_status_equals_fold(projections.consent_status, ledger, traffic.addresses)
        # ... and every ledger event is on the topic: an independent reader counts them
        expected = ledger_positions(ledger)
        records = read_topic(
            own_broker.bootstrap, "consent.events", expect=len(expected) * 2, timeout=15
        )
        ids = {json.loads(r.value)["id"] for r in records}
        on_topic = {int(dict(r.headers)["ledger-position"]) for r in records}
        assert on_topic == expected
        assert len(ids) == len(expected)
    finally:
        ledger.close()
