"""Every route of the app, from its route table, with concrete paths to call.

The security tests iterate over these so a route added later is not forgotten: each test
holds a table keyed by ``(method, path template)`` and fails on a route it lacks.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

Route = tuple[str, str]  # (method, path template)

# What each path parameter becomes when a test calls a route.
PATH_VALUES = {
    "channel": "whatsapp",
    "address": "+14155550100",
    "tenant": "acme",
    "request_id": "6f1c1d5e-0000-4000-8000-000000000001",
    "gateway": "twilio",
    "purpose": "marketing",
    "contact_id": "cust-10042",
    "campaign_id": "spring-sale",
    "receipt_id": "6f1c1d5e-0000-4000-8000-000000000002",
    "level": "0",
    "rest": "000",
    "token": "not-a-token",
    "subscription_id": "crm",
    "delivery_id": "1",
}


def app_routes(app: FastAPI) -> list[Route]:
    """Every (method, path) the app answers, HEAD aside (Starlette adds it to GETs)."""
    routes = {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        for method in (context.methods or ())
        if method != "HEAD"
    }
    return sorted(routes)


def concrete(path: str, **values: str) -> str:
    """``path`` with every ``{name}`` replaced (``PATH_VALUES`` unless given)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return values.get(name, PATH_VALUES[name])

    return re.sub(r"\{([^}]+)\}", value, path)


def body_for(method: str) -> dict[str, Any]:
    """A request body for a write route: an empty JSON object (the caller's key is judged
    before the body)."""
    return {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
