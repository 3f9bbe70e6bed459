"""The Jinja2 environment of the pages: templates beside this module, autoescaped."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from ledger.domain.times import parse_time

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def readable_time(text: str) -> str:
    """An RFC 3339 time as a person reads it: ``1 Dec 2026, 06:12 UTC``."""
    try:
        moment = parse_time(text)
    except ValueError:
        return text
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


TEMPLATES.env.filters["readable_time"] = readable_time

# Pages load only their own scripts, styles and images, and no one may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
