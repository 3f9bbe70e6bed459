"""docs/schemas and docs/asyncapi.yaml describe what the code publishes, and stay current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ledger.publishing.schemas import all_schemas

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_schema_files_are_those_the_event_classes_define() -> None:
    generated = all_schemas()
    on_disk = {
        str(path.relative_to(DOCS / "schemas")): json.loads(path.read_text())
        for path in (DOCS / "schemas").rglob("*.json")
    }
    assert set(on_disk) == set(generated), "run: python -m ledger.publishing.schemas docs/schemas"
    for name, schema in generated.items():
        assert on_disk[name] == schema, (
            f"{name} is stale: python -m ledger.publishing.schemas docs/schemas"
        )


def test_the_asyncapi_document_names_every_topic_and_message() -> None:
    document: dict[str, Any] = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())
    assert document["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {"consent.events", "consent.outbound", "consent.events.dlq"}
    payloads = {
        m["payload"]["$ref"]
        for m in document["components"]["messages"].values()
        if "$ref" in m.get("payload", {})
    }
    assert payloads == {f"./schemas/{name}" for name in all_schemas()}
    for reference in payloads:
        assert (DOCS / reference).is_file()
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].split("/")[-1]
        assert channel in document["channels"]
