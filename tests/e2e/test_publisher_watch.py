"""A dead publisher is loud: ``/readyz`` fails within the bound while the read models,
healed from the ledger, still look right; a restarted publisher makes it ready again."""

from __future__ import annotations

import time
from typing import Any

import httpx

from ledger.application.consent_ledger import ConsentLedger
from projections.views import open_projections
from tests.conftest import pg_settings
from tests.e2e.test_kafka_pipeline import Pipeline, pipeline, write_batches
from tests.support.kafka import wait_until
from tests.support.processes import free_port, wait_healthy

__all__ = ["pipeline"]  # the fixture, shared with the pipeline's own tests

STALL_SECONDS = 4.0


def readyz(base: str) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{base}/readyz", timeout=10)
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


def test_readiness_fails_within_the_bound_when_the_publisher_dies_and_recovers_after_restart(
    pipeline: Pipeline,
) -> None:
    pipeline.env |= {
        "CONSENT_LEDGER_READY_PUBLISHER_STALL_SECONDS": str(STALL_SECONDS),
        "CONSENT_LEDGER_PUBLISH_POSITION_SECONDS": "0.2",
        "CONSENT_LEDGER_HEAL_AFTER_SECONDS": "1",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, pipeline.start("serve", "serve", "--port", str(port)), timeout=60)
    pipeline.start("publish")
    pipeline.start("consume")
    ledger = ConsentLedger(pg_settings(pipeline.pg_url).eventsourcing_env())
    status = open_projections(ledger).consent_status
    try:
        # Given a pipeline that is ready, the publisher caught up
        first = write_batches(ledger, batches=2, per_batch=50, subjects=40)
        assert status.wait_for(first, timeout=90)
        wait_until(lambda: readyz(base)[0] == 200, timeout=90, message="ready")
        # When the publisher dies and the ledger goes on
        pipeline.processes["publish"].kill()
        died = time.monotonic()
        last = write_batches(ledger, batches=2, per_batch=50, subjects=40)
        # Then the read model still catches up (healed from the ledger: nothing to see there)
        assert status.wait_for(last, timeout=90)
        # ... but /readyz fails within the stall bound (plus its 2 s cache and probing)
        wait_until(lambda: readyz(base)[0] == 503, timeout=STALL_SECONDS + 20, message="503")
        assert time.monotonic() - died < STALL_SECONDS + 20
        # Every serve worker judges on its own from what the database says, each check
        # cached 2 s: once the caches have turned over, every worker answers 503.
        time.sleep(2.5)
        assert [readyz(base)[0] for _ in range(6)] == [503] * 6
        code, body = readyz(base)
        assert code == 503
        publisher = body["checks"]["publisher"]
        assert publisher["ok"] is False
        assert "has not advanced" in publisher["error"]
        assert publisher["lag"] >= 100
        assert body["checks"]["projections"]["ok"] is True  # healing hid it there
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert "consent_ledger_publisher_stalled_seconds " in metrics
        # When the publisher is started again
        pipeline.start("publish")

        # Then it catches up and the API is ready again
        # (ready means within the bounds again, which comes before the last position:
        # wait for both)
        def caught_up() -> bool:
            code, body = readyz(base)
            publisher = body["checks"]["publisher"]
            return code == 200 and publisher["lag"] == 0 and publisher["published_position"] >= last

        wait_until(caught_up, timeout=90, message="ready again and caught up")
    finally:
        ledger.close()
