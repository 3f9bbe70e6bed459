"""Who may read ``GET /metrics``: its counters sum every tenant's traffic.

With ``CONSENT_LEDGER_METRICS_TOKEN`` set, a scraper sends ``Authorization: Bearer
<token>`` (compared in constant time) from anywhere; without it, only clients on this
host (loopback) are answered, so a Prometheus beside the process scrapes it and the
internet does not; ``CONSENT_LEDGER_METRICS_PUBLIC=true`` opens it to everyone.
A refusal is ``403 metrics_restricted`` naming the setting.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from api.errors import ApiError
from api.serve_settings import ServeSettings


def check_metrics_access(request: Request, settings: ServeSettings) -> None:
    if settings.metrics_token is not None:
        expected = settings.metrics_token.get_secret_value().encode("utf-8")
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode("utf-8"), expected
        ):
            return
        raise ApiError(
            403,
            "metrics_restricted",
            "metrics need Authorization: Bearer <CONSENT_LEDGER_METRICS_TOKEN>",
            "Authorization",
        )
    if settings.metrics_public or _loopback(request):
        return
    raise ApiError(
        403,
        "metrics_restricted",
        "metrics answer clients on this host only; set CONSENT_LEDGER_METRICS_TOKEN to scrape "
        "from elsewhere",
        "Authorization",
    )


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
