"""``?after=`` cannot tie up the API: reads waiting for the read model are bounded, the
rest answer 503 at once, and a plain status read stays fast meanwhile (issue 13).

The read model is made to stand still the way it does in production when no consumer
runs: ``serve`` on the Kafka pipeline with no ``consent-ledger consume``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import issue_keys
from tests.support.kafka import Broker

ALICE = "+14155550100"


def test_waiting_reads_are_bounded_and_a_plain_read_stays_fast(
    pg_storage: StorageSettings, broker: Broker
) -> None:
    keys = issue_keys(pg_storage)
    headers = {"Authorization": f"Bearer {keys['all']}"}
    settings = ServeSettings(
        kafka_bootstrap_servers=broker.bootstrap,
        read_waiters=2,
        read_wait_seconds=4.0,
        seal_every_seconds=0,
    )
    with TestClient(create_app(settings, pg_storage)) as client:
        stop = {"channel": "whatsapp", "from": ALICE, "text": "STOP", "message_id": "w1"}
        written = client.post("/v1/messages/inbound", json=stop, headers=headers)
        assert written.status_code == 200, written.text
        position = written.json()["position"]

        def read_after() -> tuple[int, str, float]:
            started = time.monotonic()
            response = client.get(
                f"/v1/subjects/whatsapp/{ALICE}?after={position}", headers=headers
            )
            return response.status_code, response.text, time.monotonic() - started

        with ThreadPoolExecutor(max_workers=8) as pool:
            waiting = [pool.submit(read_after) for _ in range(8)]
            time.sleep(0.5)
            started = time.monotonic()
            plain = client.get(f"/v1/subjects/whatsapp/{ALICE}", headers=headers)
            plain_seconds = time.monotonic() - started
            answers = [future.result(timeout=60) for future in waiting]
    assert plain.status_code == 200
    assert plain_seconds < 2.0  # the waiting reads do not hold it up
    assert all(status == 503 for status, _, _ in answers)
    refused_at_once = [a for a in answers if "too many reads" in a[1]]
    waited = [a for a in answers if "has not applied" in a[1]]
    assert len(waited) <= 2
    assert len(refused_at_once) >= 6
    assert all(seconds < 2.0 for _, _, seconds in refused_at_once)
