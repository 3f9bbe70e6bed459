"""One signed POST to an endpoint, to the address that passed the SSRF check.

The host is resolved and every address checked (``application/webhooks/resolution.py``)
right before the request, which then connects to the first checked address, sending the
original host in ``Host`` and, over TLS, as the server name the certificate must match.
Redirects are not followed (a 3xx is a failure); the response body is never read.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ledger.application.webhooks.resolution import Unresolvable, resolve
from ledger.domain.errors import InvalidInput
from ledger.domain.webhooks.endpoints import BlockedAddress, EndpointPolicy, parse_endpoint

CONTENT_TYPE = "application/cloudevents+json"
USER_AGENT = "consent-ledger-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    reason: str = ""  # status, timeout, connection, blocked_address, unresolvable, refused_url
    error: str = ""


def post(
    client: httpx.Client,
    url: str,
    policy: EndpointPolicy,
    headers: dict[str, str],
    body: bytes,
) -> Outcome:
    try:
        endpoint = parse_endpoint(url, policy)
        address = resolve(endpoint, policy)[0]
    except BlockedAddress as exc:
        return Outcome(False, reason="blocked_address", error=exc.message)
    except Unresolvable as exc:
        return Outcome(False, reason="unresolvable", error=exc.message)
    except InvalidInput as exc:
        return Outcome(False, reason="refused_url", error=exc.message)
    literal = f"[{address}]" if address.version == 6 else str(address)
    named = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    default_port = 443 if endpoint.scheme == "https" else 80
    host = named if endpoint.port == default_port else f"{named}:{endpoint.port}"
    extensions = (
        {"sni_hostname": endpoint.host}
        if endpoint.scheme == "https" and endpoint.literal_address is None
        else {}
    )
    try:
        with client.stream(
            "POST",
            f"{endpoint.scheme}://{literal}:{endpoint.port}{endpoint.target}",
            content=body,
            headers={
                **headers,
                "host": host,
                "content-type": CONTENT_TYPE,
                "user-agent": USER_AGENT,
            },
            extensions=extensions,
        ) as response:
            status = response.status_code
    except httpx.TimeoutException as exc:
        return Outcome(False, reason="timeout", error=f"timed out: {exc}")
    except httpx.HTTPError as exc:
        return Outcome(False, reason="connection", error=f"{type(exc).__name__}: {exc}")
    if 200 <= status < 300:
        return Outcome(True, status_code=status)
    return Outcome(False, status_code=status, reason="status", error=f"answered {status}")
