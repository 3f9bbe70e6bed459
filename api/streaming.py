"""Streaming rows as NDJSON or CSV, chosen by ``?format=`` or the ``Accept`` header."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from api.csv_cells import neutralise
from api.errors import ApiError

NDJSON = "application/x-ndjson"
CHUNK_ROWS = 500
CSV = "text/csv"


def chosen_format(request: Request, format: str | None) -> str:
    if format is not None:
        if format not in ("ndjson", "csv"):
            raise ApiError(422, "invalid_format", "format must be ndjson or csv", "format")
        return CSV if format == "csv" else NDJSON
    accept = request.headers.get("accept", "")
    return CSV if CSV in accept and NDJSON not in accept else NDJSON


def stream_rows(
    rows: Iterable[dict[str, Any]], columns: list[str], media_type: str, headers: dict[str, str]
) -> StreamingResponse:
    body = _csv(rows, columns) if media_type == CSV else _ndjson(rows)
    return StreamingResponse(body, media_type=media_type, headers=headers)


def _ndjson(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    # Lines go out in chunks: one write per row costs more than producing the row.
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        if len(lines) == CHUNK_ROWS:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def _csv(rows: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for count, row in enumerate(rows, start=1):
        writer.writerow({k: _csv_safe(v) for k, v in row.items()})
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas (a cell starting with = + - @ tab CR), numbers excepted:
    an E.164 address such as +14155550100 stays as it is."""
    if isinstance(value, str):
        return neutralise(value)
    return "" if value is None else value
