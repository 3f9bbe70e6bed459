"""``consent-ledger deliver`` as an operator runs it beside ``serve`` on PostgreSQL:
it delivers, shows its outbox in /metrics, logs structured lines and stops on SIGTERM."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import pg_settings
from tests.e2e.test_downstream_webhooks import PEOPLE, say, start_api, subscribe
from tests.support.processes import clean_env, free_port, start_cli, wait_healthy
from tests.support.receiver import running_receiver


def test_deliver_delivers_reports_in_metrics_and_stops_cleanly_on_sigterm(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow = {
        "CONSENT_LEDGER_WEBHOOK_ALLOW_HTTP": "true",
        "CONSENT_LEDGER_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    for name, value in allow.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    env = clean_env(
        DATABASE_URL=pg_url,
        CONSENT_LEDGER_METRICS_PORT=str(port),
        CONSENT_LEDGER_DELIVER_POLL_SECONDS="0.1",
        **allow,
    )
    log = tmp_path / "deliver.log"
    with running_receiver() as receiver:
        api_run = start_api(pg_settings(pg_url))
        api = next(api_run)
        try:
            subscribe(api, receiver.url)
            results = [say(api, person, "STOP", f"m{n}") for n, person in enumerate(PEOPLE)]
            process = start_cli("deliver", env=env, cwd=tmp_path, log=log)
            try:
                wait_healthy(f"http://127.0.0.1:{port}", process, timeout=60)
                receiver.wait_until(lambda r: len(r.accepted()) == len(results))
                metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
                assert 'consent_ledger_webhook_attempts_total{outcome="delivered"}' in metrics
                assert "consent_ledger_webhook_fanout_lag_positions" in metrics
            finally:
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=30) == 0
        finally:
            next(api_run, None)
    assert {r.event["id"] for r in receiver.accepted()} == {r["event_id"] for r in results}
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert "webhook delivered" in messages
    assert "webhook sender stopped" in messages
