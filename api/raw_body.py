"""The hot routes read their own body: one native JSON parse and validation, no FastAPI
dependency solving (which cost more per request than recording the event).

``parse_body`` validates the raw bytes with the route's pydantic model in native code
(``model_validate_json``) and reports a failure exactly as FastAPI's own body validation
does (the same ``RequestValidationError``, the same 400/422 answers). ``documented_body``
puts the model in the OpenAPI document as the route's request body, as if FastAPI had
read it: generated clients and the schema fuzzer see the same contract.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

# Models read by ``parse_body``: their schemas go into the OpenAPI components.
RAW_BODY_MODELS: dict[str, type[BaseModel]] = {}


def parse_body(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a route whose body is ``model``, read by ``parse_body``, and
    which checks the ``Authorization`` header itself (``api.deps.principal_of``)."""
    RAW_BODY_MODELS[model.__name__] = model
    return {
        "parameters": [
            {
                "name": "authorization",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "title": "Authorization"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        },
    }


def add_raw_body_schemas(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the schemas of the models ``parse_body`` reads."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, model in RAW_BODY_MODELS.items():
            schema = model.model_json_schema(
                ref_template="#/components/schemas/{model}", mode="validation"
            )
            for inner, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(inner, definition)
            schemas.setdefault(name, schema)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
