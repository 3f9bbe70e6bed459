"""What every webhook endpoint shares: finding the tenant's gateway, reading the body,
answering the gateway.

A webhook is authenticated by the gateway's signature (or token), not by an API key;
the tenant comes from the path. A tenant that does not exist, or has not configured
this gateway, is answered exactly as a configured gateway answers a missing or wrong
signature (``401 invalid_signature``, Gupshup ``401 invalid_token``; the WhatsApp
handshake ``403`` as for a wrong verify token), and nothing is stored: a caller cannot
tell from the answer which tenants exist or which gateways they use.

``200`` once every item was recorded or deliberately ignored; ``503`` if the ledger
failed part-way: what was recorded stays recorded and the gateway's retry records the
rest (the others are duplicates by source id).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response
from pydantic_core import from_json

from api.errors import ApiError, error_body
from api.gateways.services import GatewayServices
from api.schemas import ErrorOut
from ledger.application.signals.intake import IntakeReport
from ledger.domain.tenants.gateways import Gateway
from ledger.domain.tenants.tenant_settings import GatewayConfig
from ledger.domain.validation import SOURCE_KIND_PATTERN

# What a webhook endpoint may answer besides 200, for the OpenAPI document.
WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (400, 401, 422, 503)
}


def configured(
    services: GatewayServices, tenant: str, gateway: Gateway, refusal: ApiError
) -> tuple[GatewayConfig, dict[str, str]]:
    """The tenant's configuration of ``gateway``; else ``refusal``, the very answer a
    wrong signature gets."""
    found = services.tenants.gateway(tenant, gateway) if SOURCE_KIND_PATTERN.match(tenant) else None
    if found is None:
        raise refusal
    return found


def refuse_signature(header: str) -> ApiError:
    return ApiError(401, "invalid_signature", f"the {header} signature is missing or wrong", header)


def refuse_token() -> ApiError:
    return ApiError(401, "invalid_token", "the Gupshup token is missing or wrong", "Authorization")


def refuse_verify_token() -> ApiError:
    return ApiError(403, "forbidden", "wrong hub.mode or hub.verify_token", "hub.verify_token")


def json_body(raw: bytes) -> Any:
    """The parsed body. The native parser refuses what would hurt later: nesting deeper
    than its recursion limit (a 10,000-level body crashed ``json.loads``), invalid UTF-8
    and lone surrogate escapes (which no database column can hold): all a 400."""
    try:
        return from_json(raw)
    except ValueError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None


def answer(report: IntakeReport, success: Response | None = None) -> Response:
    """503 when the ledger failed part-way; else ``success`` (default: the counts as JSON)."""
    if report.failure is not None:
        body = error_body(report.failure.code, report.failure.message)
        body.update(report.summary)
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})
    return success if success is not None else JSONResponse(report.summary, status_code=200)
