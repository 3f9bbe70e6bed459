"""The error answers every ``/v1`` operation can give, declared in the OpenAPI document.

Routes declare their own answers (a 409 while a request is pending, a 404 of an unknown
checkpoint…); the answers that come from the HTTP edge rather than the route are added
here, one rule each, so generated clients and the schema fuzzer
(tests/e2e/test_schemathesis.py) see every status the server may send:

- 400: a body that is not JSON (or CSV) at all;
- 401 and 403: a missing, unknown or revoked key, or one without the route's role
  (the webhooks authenticate by signature: 401 only; the handshake answers 403);
- 404: a path parameter naming nothing (or one the router cannot match);
- 409: a write the subject's history does not allow;
- 413: a body past ``CONSENT_LEDGER_MAX_BODY_BYTES``;
- 422: a value that breaks a rule, naming the field;
- 503: the database is unavailable or the read model not caught up (with Retry-After).

(A head past ``CONSENT_LEDGER_MAX_HEADER_BYTES`` is answered 431 before any route is
chosen: api/http_protocol.py.)
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
WRITES = ("post", "put", "patch", "delete")
DESCRIPTIONS = {
    "400": "The body is not valid JSON (or CSV)",
    "401": "No valid API key (or webhook signature)",
    "403": "The key lacks the role this needs",
    "404": "Nothing by that name",
    "409": "The subject's history does not allow this now",
    "413": "The body is too large",
    "415": "The body is not of the media type this takes",
    "422": "A value breaks a rule; the error names the field",
    "503": "The ledger or read model is unavailable or behind; retry (Retry-After)",
}


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["422", "503"]
    webhook = path.startswith("/v1/webhooks/")
    if webhook:
        statuses += ["401", "404"] if method in WRITES else ["403", "404"]
    else:
        statuses += ["401", "403"]
    if "{" in path:
        statuses.append("404")
    if "requestBody" in operation:
        statuses += ["400", "413"]
        if "application/json" not in operation["requestBody"].get("content", {}):
            statuses.append("415")
    if method in WRITES and not webhook:
        statuses.append("409")
    return statuses


def declare_error_answers(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the edge's error answers on every ``/v1`` operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for path, operations in document.get("paths", {}).items():
            if not path.startswith("/v1/"):
                continue
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in error_statuses(path, method, operation):
                    responses.setdefault(
                        status, {"description": DESCRIPTIONS[status], "content": ERROR}
                    )
                for status, response in responses.items():
                    # Errors are JSON even where the route answers text (the handshake).
                    if status[0] in "45" and "application/json" not in response.get("content", {}):
                        response["content"] = ERROR
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
