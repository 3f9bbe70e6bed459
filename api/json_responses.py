"""Answers of the hot routes, written with ``orjson`` (the route still declares its model).

A route that returns a ``Response`` skips FastAPI's validation and encoding of the answer
against its response model, which cost more than the ledger's own work for one inbound
message. The shapes are the models' (``api/schemas.py``); the tests read them back
through those models.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

from ledger.domain.records import Recorded


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def recorded_json(answer: Recorded) -> dict[str, Any]:
    """``RecordedOut`` of one recorded event."""
    return {
        "subject_id": answer.subject_id,
        "event_id": answer.event_id,
        "type": answer.type,
        "version": answer.version,
        "position": answer.position,
        "duplicate": answer.duplicate,
    }
