"""The requests the benchmarks send: what a web form and a messaging gateway post.

Every request goes to a subject of its own (a fresh address from a range no other
benchmark uses), so each one records exactly one event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# Address ranges (area codes) per benchmark; the dataset has +1 415.
BATCH_AREA = "212"
SINGLE_AREA = "646"
LAG_AREA = "718"
WRITER_AREA = "917"
IMPORT_CLI_AREA = "303"
IMPORT_API_AREA = "305"
UNKNOWN_AREA = "650"

INBOUND_TEXTS = ("STOP", "START", "stop promotions", "Stop", "UNSUBSCRIBE")


def address(area: str, index: int) -> str:
    return f"+1{area}{index:07d}"


def occurred_at() -> str:
    return (datetime.now(UTC) - timedelta(seconds=1)).isoformat()


def web_form_event(area: str, index: int, at: str) -> dict[str, Any]:
    """One opt-in as a web form reports it (the README tour's event)."""
    return {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": address(area, index),
        "purposes": ["marketing", "utility"],
        "occurred_at": at,
        "source": {"kind": "web_form", "id": f"form-{area}-{index}"},
        "evidence": {
            "method": "web_form",
            "text": "I agree to receive offers from Acme",
            "notice": {"id": "privacy", "version": "3"},
            "business_name": "Acme",
            "ip": "203.0.113.9",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
        },
    }


def batch_body(area: str, first: int, size: int) -> bytes:
    at = occurred_at()
    events = [web_form_event(area, first + n, at) for n in range(size)]
    return json.dumps({"events": events}).encode()


def inbound_body(area: str, index: int) -> dict[str, Any]:
    return {
        "channel": "whatsapp",
        "from": address(area, index),
        "text": INBOUND_TEXTS[index % len(INBOUND_TEXTS)],
        "message_id": f"wamid.bench.{area}.{index}",
        "occurred_at": occurred_at(),
    }


def post_batch(http: httpx.Client, area: str, first: int, size: int) -> list[dict[str, Any]]:
    response = http.post(
        "/v1/events",
        content=batch_body(area, first, size),
        headers={"content-type": "application/json"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"POST /v1/events: {response.status_code} {response.text[:300]}")
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def post_inbound(http: httpx.Client, area: str, index: int) -> dict[str, Any]:
    response = http.post("/v1/messages/inbound", json=inbound_body(area, index))
    if response.status_code != 200:
        raise RuntimeError(f"POST /v1/messages/inbound: {response.status_code} {response.text}")
    answer: dict[str, Any] = response.json()
    if answer.get("event_id") is None:
        raise RuntimeError(f"the inbound message recorded nothing: {answer}")
    return answer
