"""Which endpoint URLs and addresses a webhook may reach (server-side request forgery).

Outside tests an endpoint is ``https`` and every address its host resolves to is a
public one: no private, loopback, link-local, multicast, reserved or unspecified
address (so no cloud metadata service, no database next door). An operator may allow
plain ``http`` or private addresses (``CONSENT_LEDGER_WEBHOOK_ALLOW_HTTP``,
``CONSENT_LEDGER_WEBHOOK_ALLOW_PRIVATE``). The URL is checked when it is registered and
the resolved addresses again before every delivery, which connects to the address it
checked (a name that changes its answer in between gains nothing).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledger.domain.errors import InvalidInput

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(InvalidInput):
    """An endpoint resolves to an address webhooks may not reach."""

    code = "blocked_address"


@dataclass(frozen=True)
class EndpointPolicy:
    allow_http: bool = False
    allow_private: bool = False


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str  # as written, without brackets
    port: int
    target: str  # path and query, at least "/"

    @property
    def literal_address(self) -> IPAddress | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_endpoint(url: str, policy: EndpointPolicy, field: str = "url") -> Endpoint:
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"at most {MAX_URL_LENGTH} characters", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"not a valid URL: {exc}", field=field) from None
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed:
        raise InvalidInput(
            "the URL must use https" if not policy.allow_http else "the URL must use http(s)",
            field=field,
        )
    if not parts.hostname:
        raise InvalidInput("the URL has no host", field=field)
    if parts.username or parts.password:
        raise InvalidInput("the URL must not carry credentials", field=field)
    if parts.fragment:
        raise InvalidInput("the URL must not have a fragment", field=field)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    endpoint = Endpoint(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or (443 if parts.scheme == "https" else 80),
        target=target,
    )
    literal = endpoint.literal_address
    if literal is not None:
        check_address(literal, policy, field)
    elif endpoint.host.rstrip(".").lower() in ("localhost", "localhost.localdomain") or (
        endpoint.host.rstrip(".").lower().endswith(".localhost")
    ):
        check_address(ipaddress.ip_address("127.0.0.1"), policy, field)
    return endpoint


def check_address(address: IPAddress, policy: EndpointPolicy, field: str = "url") -> None:
    """Raise ``BlockedAddress`` unless webhooks may reach ``address``."""
    if policy.allow_private:
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        raise BlockedAddress(
            f"{address} is a private, loopback, link-local or reserved address",
            field=field,
        )
