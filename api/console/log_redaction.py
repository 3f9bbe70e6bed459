"""Preference-page tokens never reach a log line: a logging filter on ``serve``'s log
handler that rewrites ``/p/<token>`` to ``/p/[redacted]`` in every record's message and
string fields. Our request log already writes the route template, and uvicorn's access
log is off; this holds even if a library or a future access log writes the raw path."""

from __future__ import annotations

import logging
import re

TOKEN_PATH = re.compile(r"/p/[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)?")
REDACTED = "/p/[redacted]"


def redact(text: str) -> str:
    return TOKEN_PATH.sub(REDACTED, text)


class RedactPreferenceTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/p/" in message:
            record.msg, record.args = redact(message), None
        for name, value in list(vars(record).items()):
            if isinstance(value, str) and "/p/" in value and name != "msg":
                setattr(record, name, redact(value))
        return True
