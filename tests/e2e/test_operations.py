"""Operations: readiness says what is wrong, metrics count what happened."""

from __future__ import annotations

from tests.e2e.conftest import Api


def test_ready_when_the_database_answers_and_the_read_model_keeps_up(api: Api) -> None:
    response = api.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["projections"]["consent_status"]["lag"] == 0


def test_metrics_count_requests_by_route_and_events_by_type(api: Api) -> None:
    def sample(name: str, labels: str) -> float:
        text = api.client.get("/metrics").text
        for line in text.splitlines():
            if line.startswith(f"{name}{{") and labels in line:
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before_events = sample("consent_ledger_events_recorded_total", 'type="opted_out"')
    before_requests = sample(
        "consent_ledger_http_requests_total",
        'method="POST",route="/v1/messages/inbound",status="200"',
    )
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers(),
        json={"channel": "sms", "from": "+14155550100", "text": "STOP", "message_id": "SM-metrics"},
    )
    assert response.status_code == 200
    assert sample("consent_ledger_events_recorded_total", 'type="opted_out"') == before_events + 1
    after_requests = sample(
        "consent_ledger_http_requests_total",
        'method="POST",route="/v1/messages/inbound",status="200"',
    )
    assert after_requests == before_requests + 1
    text = api.client.get("/metrics").text
    assert 'consent_ledger_http_request_duration_seconds_bucket{le="0.005",method="POST"' in text
    assert "+14155550100" not in text
