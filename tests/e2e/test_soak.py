"""A soak: mixed traffic at a steady rate through the whole pipeline (``serve``,
``publish``, ``consume`` as processes), a broker outage (paused) and a consumer restart
in the middle. Afterwards every subject's projected status equals the ledger's fold, the
publisher and the consumers are at the ledger's head, and no process grew: the resident
memory of each, before and after, is reported and held to a generous bound.

Runs for ``SOAK_SECONDS`` (default 50: the normal test run); ``make soak`` runs it for
ten minutes and prints the report.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.publishing.positions import PublisherPositions
from projections.views import open_projections
from tests.conftest import pg_settings
from tests.support.fleet import Fleet, own_broker, pipeline_fleet
from tests.support.kafka import Broker, wait_until
from tests.support.pipeline import assert_status_equals_fold
from tests.support.traffic import Traffic

__all__ = ["own_broker", "pipeline_fleet"]  # fixtures

SECONDS = float(os.environ.get("SOAK_SECONDS", "50"))
RATE = 25.0  # requests a second
# Flat memory: at most this much growth over the warm value (allocator slack, caches
# filling to their bounds).
GROWTH_FACTOR, GROWTH_MIB = 1.5, 96.0


def test_a_soak_with_a_broker_outage_and_a_consumer_restart_ends_consistent_and_flat(
    pipeline_fleet: Fleet,
    own_broker: Broker,
    pg_url: str,
    tmp_path: Path,
    record_property: pytest.RecordProperty,
) -> None:
    fleet = pipeline_fleet
    key = fleet.key("ingest,campaign,auditor")
    base = fleet.serve()
    fleet.start("publish")
    fleet.start("consume")
    ledger = ConsentLedger(pg_settings(pg_url).eventsourcing_env())
    try:
        started = time.monotonic()
        traffic = Traffic(base, key, rate=RATE, subjects=300).start()

        def at(fraction: float) -> None:
            time.sleep(max(0.0, started + SECONDS * fraction - time.monotonic()))

        at(0.15)  # warm: every process has served for a while
        before = {name: fleet.rss_mib(name) for name in ("serve", "publish", "consume")}
        at(0.35)  # the broker goes away for a while
        os.kill(own_broker.process.pid, signal.SIGSTOP)
        time.sleep(min(10.0, SECONDS * 0.15))
        os.kill(own_broker.process.pid, signal.SIGCONT)
        at(0.65)  # a consumer restart (a deploy)
        fleet.processes["consume"].send_signal(signal.SIGTERM)
        assert fleet.processes["consume"].wait(timeout=60) == 0
        fleet.start("consume")
        at(1.0)
        traffic.stop()
        after = {name: fleet.rss_mib(name) for name in ("serve", "publish")}

        # Every request was answered as expected throughout
        assert traffic.failures == []
        assert traffic.sent() >= SECONDS * RATE * 0.5, traffic.answers
        # The publisher and the consumers reach the ledger's head
        head = ledger.recorder.max_notification_id() or 0
        datastore = getattr(ledger.recorder, "datastore", None)
        published = PublisherPositions(datastore)  # type: ignore[arg-type]
        wait_until(lambda: published.load("consent.events") >= head, timeout=120, message="pub")
        projections = open_projections(ledger)
        for projection in projections.all():
            assert projection.wait_for(head, timeout=120), projection.name
        # Every subject's projected status is the ledger's fold
        assert_status_equals_fold(projections.consent_status, ledger, traffic.addresses)
        report = {
            "seconds": SECONDS,
            "requests": sum(traffic.answers.values()),
            "answers": dict(traffic.answers),
            "ledger_head": head,
            "published_position": published.load("consent.events"),
            "consent_status_position": projections.consent_status.applied_position(),
            "rss_mib_before": {k: round(v, 1) for k, v in before.items()},
            "rss_mib_after": {k: round(v, 1) for k, v in after.items()},
            "rss_mib_restarted_consumer": round(fleet.rss_mib("consume"), 1),
        }
        (tmp_path / "soak-report.json").write_text(json.dumps(report, indent=2))
        record_property("soak", json.dumps(report))
        print(f"\nsoak report: {json.dumps(report)}")
        # Memory is flat in the processes that ran the whole time
        for name, rss in after.items():
            assert rss <= before[name] * GROWTH_FACTOR + GROWTH_MIB, (name, report)
    finally:
        ledger.close()
