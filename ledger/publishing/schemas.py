"""JSON Schemas (draft 2020-12) of what the ledger publishes on Kafka.

One schema per event type (the CloudEvents envelope and its ``data``, built from the event
class's own fields, so a new field cannot be forgotten) and one for outbound messages.
``docs/schemas/`` holds them as files; a test keeps the files equal to what this module
builds and validates real published records against them. Regenerate the files with
``python -m ledger.publishing.schemas docs/schemas``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.domain.commands import CaptureMethod
from ledger.domain.outbound.messages import FALLBACKS
from ledger.events import RENAMED_FIELDS, LedgerEvent
from ledger.publishing.cloudevents import TYPE_PREFIX, ledger_event_types

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://consent-ledger.example/schemas/"
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"
HASH_PATTERN = "^[0-9a-f]{64}$"
ENVELOPE_FIELDS = (
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "eventkind",
    "ledgerposition",
    "subjectversion",
    "data",
)

UUID_SCHEMA = {"type": "string", "pattern": UUID_PATTERN}
TIME_SCHEMA = {"type": "string", "pattern": TIME_PATTERN}
HASH_SCHEMA = {"type": "string", "pattern": HASH_PATTERN}
TEXT = {"type": "string"}

EVIDENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["method"],
    "additionalProperties": False,
    "properties": {
        # A built-in capture method, or one a tenant added (a lowercase identifier).
        "method": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$",
            "examples": [m.value for m in CaptureMethod],
        },
        "notice": {
            "type": "object",
            "required": ["id", "version"],
            "additionalProperties": False,
            "properties": {"id": TEXT, "version": TEXT, "content_hash": HASH_SCHEMA},
        },
        "business_name": TEXT,
        "keyword": TEXT,
        "match": {"enum": ["exact", "phrase", "button"]},
        "button_payload": TEXT,
        "recorded_by": TEXT,
        "rules_version": {"type": "integer", "minimum": 0},
        "gateway": TEXT,
        "gateway_message_id": TEXT,
        "gateway_status": TEXT,
        "gateway_error": TEXT,
        "triggered_by": TEXT,
        "sender": TEXT,
        "opt_out_scope": TEXT,
    },
}
# Named fields get precise schemas; others follow their annotation.
FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "evidence": EVIDENCE_SCHEMA,
    "source": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": {"kind": TEXT, "id": TEXT},
    },
    "commitments": {"type": "object", "additionalProperties": HASH_SCHEMA},
    "purposes": {"type": "array", "items": {"type": "string", "pattern": "^[a-z][a-z0-9_.:-]*$"}},
    "prev_hash": HASH_SCHEMA,
    "hash": HASH_SCHEMA,
    "personal_data": {"type": "string", "contentEncoding": "base64"},
}


def event_schema(cls: type[LedgerEvent]) -> dict[str, Any]:
    data_properties: dict[str, Any] = {"type": {"const": cls.type_name}}
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        name = RENAMED_FIELDS.get(field.name, field.name)
        data_properties[name] = FIELD_SCHEMAS.get(name) or _schema_of(hints[field.name])
    return {
        "$schema": DRAFT,
        "$id": f"{BASE_ID}events/{cls.type_name}.json",
        "title": f"consent.{cls.type_name}",
        "description": (cls.__doc__ or "").strip().split("\n\n")[0],
        "type": "object",
        "required": list(ENVELOPE_FIELDS),
        "additionalProperties": False,
        "properties": {
            "specversion": {"const": "1.0"},
            "id": UUID_SCHEMA,
            "source": {"type": "string", "pattern": "^consent-ledger/"},
            "type": {"const": TYPE_PREFIX + cls.type_name},
            "subject": UUID_SCHEMA,
            "time": TIME_SCHEMA,
            "datacontenttype": {"const": "application/json"},
            "eventkind": {"const": "subject"},
            "ledgerposition": {"type": "integer", "minimum": 1},
            "subjectversion": {"type": "integer", "minimum": 1},
            "data": {
                "type": "object",
                "required": sorted(data_properties),
                "additionalProperties": False,
                "properties": data_properties,
            },
        },
    }


def outbound_schema() -> dict[str, Any]:
    common = {
        "version": {"const": 1},
        "id": TEXT,
        "tenant": TEXT,
        "channel": TEXT,
        "subject_id": UUID_SCHEMA,
        "event_id": {"anyOf": [UUID_SCHEMA, {"type": "null"}]},
        "category": {"const": "utility"},
        "to": {"type": "string", "pattern": r"^\+[1-9][0-9]{4,14}$"},
        "outbox_id": {"type": "integer", "minimum": 1},
    }
    required = ["version", "id", "kind", "tenant", "channel", "subject_id", "to", "outbox_id"]

    def kind(name: str, extra: dict[str, Any], more: list[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": required + more,
            "additionalProperties": False,
            "properties": {**common, "kind": {"const": name}, **extra},
        }

    return {
        "$schema": DRAFT,
        "$id": f"{BASE_ID}outbound.json",
        "title": "consent.outbound message",
        "description": "A message a gateway must send: an opt-in request, a confirmation "
        "of a change of consent, or a help reply; or a notice that is not one to send (kind "
        "fallback: a request could not reach the person, and the channel to try instead). "
        "Deduplicate by id.",
        "oneOf": [
            kind(
                "opt_in_request",
                {
                    "request_id": UUID_SCHEMA,
                    "purposes": FIELD_SCHEMAS["purposes"],
                    "template": {
                        "type": "object",
                        "required": ["id", "version"],
                        "properties": {"id": TEXT, "version": TEXT, "text": TEXT},
                    },
                    "business_name": {"type": ["string", "null"]},
                    "expires_at": TIME_SCHEMA,
                },
                ["request_id", "purposes", "template", "expires_at"],
            ),
            kind(
                "confirmation",
                {
                    "change": {"enum": ["opted_out", "opted_in", "accepted", "rejected"]},
                    "purposes": FIELD_SCHEMAS["purposes"],
                    "all_purposes": {"type": "boolean"},
                    "text": TEXT,
                },
                ["change", "purposes", "all_purposes", "text"],
            ),
            kind("help", {"text": TEXT}, ["text"]),
            kind(
                "fallback",
                {
                    "category": {"const": "notice"},  # not a message to send
                    "event_id": UUID_SCHEMA,
                    "request_id": UUID_SCHEMA,
                    "purposes": FIELD_SCHEMAS["purposes"],
                    "failure": {
                        "type": "object",
                        "required": ["gateway", "status", "error_code", "gateway_message_id"],
                        "additionalProperties": False,
                        "properties": {
                            name: {"type": ["string", "null"]}
                            for name in ("gateway", "status", "error_code", "gateway_message_id")
                        },
                    },
                    "fallback": {"enum": sorted(set(FALLBACKS.values()))},
                },
                ["category", "event_id", "request_id", "purposes", "failure", "fallback"],
            ),
        ],
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    """Relative file name -> schema."""
    schemas = {
        f"events/{name}.json": event_schema(cls) for name, cls in ledger_event_types().items()
    }
    schemas["outbound.json"] = outbound_schema()
    return schemas


def _schema_of(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is UUID:
        return UUID_SCHEMA
    if annotation is datetime:
        return TIME_SCHEMA
    if annotation is str:
        return TEXT
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if origin is list:
        return {"type": "array", "items": _schema_of(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_of(args[1]) if args else {}}
    if type(None) in args:
        inner = [a for a in args if a is not type(None)]
        return {"anyOf": [*(_schema_of(a) for a in inner), {"type": "null"}]}
    return {}  # typing.Any


def write(directory: Path) -> None:
    for name, schema in all_schemas().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas"))
