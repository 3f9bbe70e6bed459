"""Webhook signatures match the Standard Webhooks reference vectors, and a receiver's
check refuses a tampered body, a wrong key and a stale timestamp."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.crypto.webhook_signatures import headers, sign, verify
from ledger.domain.errors import InvalidInput
from ledger.domain.webhooks.subscriptions import secret_key

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "vendor/standard-webhooks/signature_vectors.json").read_text()
)


@pytest.mark.parametrize("vector", VECTORS["vectors"])
def test_signatures_match_the_reference_vectors(vector: dict[str, Any]) -> None:
    key = secret_key(vector["secret"])
    body = vector["payload"].encode()
    assert sign(key, vector["msg_id"], vector["timestamp"], body) == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS["invalid"])
def test_a_near_miss_signature_does_not_verify(vector: dict[str, Any]) -> None:
    key = secret_key(vector["secret"])
    received = {
        "webhook-id": vector["msg_id"],
        "webhook-timestamp": str(vector["timestamp"]),
        "webhook-signature": vector["signature"],
    }
    assert not verify(key, received, vector["payload"].encode(), now=vector["timestamp"])


def test_a_receiver_accepts_the_right_signature_among_several_and_refuses_tampering() -> None:
    vector = VECTORS["vectors"][0]
    key = secret_key(vector["secret"])
    body = b'{"a": 1}'
    sent = headers([key], "msg_1", 1_700_000_000, body)
    rotated = {**sent, "webhook-signature": "v1,AAAA " + sent["webhook-signature"]}
    assert verify(key, rotated, body, now=1_700_000_010)
    assert not verify(key, sent, b'{"a": 2}', now=1_700_000_010)
    assert not verify(key[:-1] + b"x", sent, body, now=1_700_000_010)
    assert not verify(key, sent, body, now=1_700_000_000 + 301)


@pytest.mark.parametrize(
    "secret",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="],
)
def test_a_secret_not_in_the_whsec_format_is_refused_naming_the_field(secret: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        secret_key(secret)
    assert caught.value.field == "secret"
