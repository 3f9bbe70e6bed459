"""Checks on command values that do not depend on a subject's history."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from ledger.domain.commands import CaptureMethod
from ledger.domain.errors import InvalidInput
from ledger.domain.times import utc_now

PURPOSE_PATTERN = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
SOURCE_KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MAX_SOURCE_ID = 256
MAX_TEXT = 4096
MAX_SHORT = 256
# A source clock may run a little ahead of ours; more than this is a wrong timestamp.
ALLOWED_CLOCK_SKEW = timedelta(minutes=5)


def check_purposes(purposes: Iterable[str], *, field: str = "purposes") -> tuple[str, ...]:
    result: list[str] = []
    for index, purpose in enumerate(purposes):
        if not isinstance(purpose, str) or not PURPOSE_PATTERN.match(purpose):
            raise InvalidInput(
                f"purpose {purpose!r} must be 1-64 characters: lowercase letters, digits, "
                "'_', '.', ':' or '-', starting with a letter",
                field=f"{field}[{index}]",
                code="invalid_purpose",
            )
        if purpose not in result:
            result.append(purpose)
    return tuple(sorted(result))


def check_occurred_at(moment: datetime, *, field: str = "occurred_at") -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(
            "time must carry a time zone offset (RFC 3339)", field=field, code="invalid_time"
        )
    if moment - utc_now() > ALLOWED_CLOCK_SKEW:
        raise InvalidInput(
            "time lies in the future; the source's clock is wrong", field=field, code="invalid_time"
        )
    return moment


def check_source(kind: str, source_id: str | None, *, field: str = "source") -> None:
    if not SOURCE_KIND_PATTERN.match(kind):
        raise InvalidInput(
            f"source kind {kind!r} must be a lowercase identifier",
            field=f"{field}.kind",
            code="invalid_source",
        )
    if source_id is not None and not 0 < len(source_id) <= MAX_SOURCE_ID:
        raise InvalidInput(
            f"source id must be 1-{MAX_SOURCE_ID} characters",
            field=f"{field}.id",
            code="invalid_source",
        )
    check_text(source_id, field=f"{field}.id", limit=MAX_SOURCE_ID)


def check_method(method: str, *, field: str = "evidence.method") -> CaptureMethod:
    try:
        return CaptureMethod(method)
    except ValueError:
        known = ", ".join(m.value for m in CaptureMethod)
        raise InvalidInput(
            f"unknown capture method {method!r}; known: {known}",
            field=field,
            code="invalid_method",
        ) from None


def check_text(value: str | None, *, field: str, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise InvalidInput(f"longer than {limit} characters", field=field, code="too_long")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "not valid Unicode text (a lone surrogate escape)", field=field, code="invalid_text"
        ) from None
    return value


def check_tenant(tenant: str) -> str:
    if not SOURCE_KIND_PATTERN.match(tenant):
        raise InvalidInput(
            f"tenant {tenant!r} must be a lowercase identifier",
            field="tenant",
            code="invalid_tenant",
        )
    return tenant
