"""A preference-page token never reaches a structured log line, whoever logs the path."""

from __future__ import annotations

import io
import logging

from api.cli.json_logs import JsonFormatter
from api.console.log_redaction import RedactPreferenceTokens

TOKEN = "eyJhIjoiKzE0MTU1NTUwMTAwIn0.c2lnbmF0dXJlLWJ5dGVz"


def test_an_access_line_with_a_token_is_written_redacted() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactPreferenceTokens())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning('%s - "GET %s HTTP/1.1" %d', "203.0.113.9", f"/p/{TOKEN}?done=x", 200)
        logger.warning("request", extra={"path": f"/p/{TOKEN}"})
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert TOKEN not in written
    assert written.count("/p/[redacted]") == 2
