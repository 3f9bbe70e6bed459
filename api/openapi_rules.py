"""The rules the ledger checks, written into the OpenAPI document so generated clients
send requests the server accepts (issue 13).

The rules are the domain's own (``ledger/domain/validation.py``, ``addresses.py``),
imported rather than copied, and only *documented* here: the domain still checks them and
answers its own error codes (``unknown_channel``, ``invalid_purpose``, ``too_long``…).
Body models use the ``json_schema_extra`` values below; path parameters get theirs by
name in ``document_path_rules``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ledger.domain.addresses import MAX_ADDRESS_INPUT, Channel
from ledger.domain.tenants.gateways import Gateway
from ledger.domain.validation import (
    MAX_SHORT,
    MAX_SOURCE_ID,
    MAX_TEXT,
    PURPOSE_PATTERN,
    SOURCE_KIND_PATTERN,
)
from ledger.events import CONSENT_EVENT_TYPES

CHANNEL: dict[str, Any] = {"enum": [c.value for c in Channel]}
ADDRESS: dict[str, Any] = {
    "minLength": 1,
    "maxLength": MAX_ADDRESS_INPUT,
    "description": "a phone number in international form (E.164, e.g. +14155550100); "
    "gateway spellings such as whatsapp:+14155550100 are accepted",
}
PURPOSE: dict[str, Any] = {"pattern": PURPOSE_PATTERN.pattern}
EVENT_TYPE: dict[str, Any] = {"enum": list(CONSENT_EVENT_TYPES)}
SOURCE_KIND: dict[str, Any] = {"pattern": SOURCE_KIND_PATTERN.pattern}
SOURCE_ID: dict[str, Any] = {"minLength": 1, "maxLength": MAX_SOURCE_ID}
TEXT: dict[str, Any] = {"maxLength": MAX_TEXT}
SHORT: dict[str, Any] = {"maxLength": MAX_SHORT}
TENANT: dict[str, Any] = {"pattern": SOURCE_KIND_PATTERN.pattern}
GATEWAY: dict[str, Any] = {"enum": [g.value for g in Gateway]}

# Path parameters, by name.
PATH_RULES: dict[str, dict[str, Any]] = {
    "channel": CHANNEL,
    "address": ADDRESS,
    "purpose": PURPOSE,
    "tenant": TENANT,
    "gateway": GATEWAY,
}


def document_path_rules(app: FastAPI) -> None:
    """Make ``app.openapi()`` carry the rules of the path parameters named above."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    rules = PATH_RULES.get(parameter.get("name", ""))
                    if parameter.get("in") == "path" and rules is not None:
                        schema = parameter.setdefault("schema", {})
                        schema.update({k: v for k, v in rules.items() if k != "description"})
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
