"""Preference-page links: ``/p/{token}``, a token signed with the tenant-independent HMAC
key ``CONSENT_LEDGER_PREFERENCE_KEY`` that names one subject of one tenant, until when,
and which purposes the person may opt back into from the page.

``token = base64url(payload JSON) "." base64url(HMAC-SHA256(key, payload))``. The payload
is signed, not encrypted: it holds the person's own address, and the link goes only to
them. Tokens are never logged (the request log writes the route template ``/p/{token}``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_TOKEN_CHARS = 2048


class BadToken(ValueError):
    """The token is malformed, not ours, or expired."""


@dataclass(frozen=True)
class PreferenceLink:
    tenant: str
    channel: str
    address: str
    expires: datetime
    reopt_purposes: tuple[str, ...]  # what the person may opt back into from the page


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def mint(secret: bytes, link: PreferenceLink) -> str:
    body = {
        "v": 1,
        "t": link.tenant,
        "c": link.channel,
        "a": link.address,
        "exp": int(link.expires.timestamp()),
        "r": list(link.reopt_purposes),
    }
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_mac(secret, payload)}"


def open_token(secret: bytes, token: str, now: datetime) -> PreferenceLink:
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise BadToken("malformed")
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise BadToken("not signed by this ledger")
    try:
        body = json.loads(_unb64(payload))
        link = PreferenceLink(
            tenant=str(body["t"]),
            channel=str(body["c"]),
            address=str(body["a"]),
            expires=datetime.fromtimestamp(int(body["exp"]), UTC),
            reopt_purposes=tuple(str(p) for p in body["r"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise BadToken(f"unreadable: {error}") from None
    if link.expires <= now:
        raise BadToken("expired")
    return link
