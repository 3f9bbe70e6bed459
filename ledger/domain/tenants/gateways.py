"""The gateways a tenant can configure, and which of their fields are secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from ledger.domain.errors import InvalidInput

MAX_FIELD = 512


class Gateway(StrEnum):
    WHATSAPP = "whatsapp"  # Meta's WhatsApp Cloud API
    TWILIO = "twilio"
    GUPSHUP = "gupshup"


@dataclass(frozen=True)
class GatewayFields:
    secret: tuple[str, ...]  # never returned, never logged, never in the ledger's log
    public: tuple[str, ...]  # recorded in the ledger as they are


FIELDS: dict[Gateway, GatewayFields] = {
    Gateway.WHATSAPP: GatewayFields(
        secret=("app_secret", "verify_token"), public=("phone_number_id",)
    ),
    # webhook_url: the public URL Twilio signs (a proxy may sit in front of the API).
    Gateway.TWILIO: GatewayFields(secret=("auth_token",), public=("webhook_url",)),
    Gateway.GUPSHUP: GatewayFields(secret=("token",), public=("app_name",)),
}


def parse_gateway(name: str, *, field: str = "gateway") -> Gateway:
    try:
        return Gateway(name)
    except ValueError:
        known = ", ".join(g.value for g in Gateway)
        raise InvalidInput(
            f"unknown gateway {name!r}; known: {known}", field=field, code="unknown_gateway"
        ) from None


def split_fields(
    gateway: Gateway, values: Mapping[str, Any], *, field: str = ""
) -> tuple[dict[str, str], dict[str, str]]:
    """(public settings, secrets) of a gateway configuration; every field is required."""
    spec = FIELDS[gateway]
    prefix = f"{field}." if field else ""
    for name in values:
        if name not in (*spec.secret, *spec.public):
            known = ", ".join((*spec.public, *spec.secret))
            raise InvalidInput(
                f"unknown field {name!r} for {gateway.value}; known: {known}",
                field=f"{prefix}{name}",
                code="unknown_field",
            )
    checked: dict[str, str] = {}
    for name in (*spec.public, *spec.secret):
        value = values.get(name)
        if value is None:
            raise InvalidInput(
                f"{gateway.value} needs {name}", field=f"{prefix}{name}", code="missing_field"
            )
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_FIELD:
            raise InvalidInput(
                f"{name} must be a non-empty string of at most {MAX_FIELD} characters",
                field=f"{prefix}{name}",
            )
        checked[name] = value.strip()
    if gateway is Gateway.TWILIO:
        url = urlsplit(checked["webhook_url"])
        if url.scheme not in ("http", "https") or not url.netloc:
            raise InvalidInput(
                "webhook_url must be the absolute http(s) URL Twilio calls",
                field=f"{prefix}webhook_url",
            )
    public = {name: checked[name] for name in spec.public}
    secret = {name: checked[name] for name in spec.secret}
    return public, secret
