"""Checks on command values that do not depend on a subject's history."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from ledger.domain.commands import CaptureMethod
from ledger.domain.errors import InvalidInput
from ledger.domain.times import utc_now

PURPOSE_PATTERN = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
SOURCE_KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
# A tenant's own capture method: a lowercase identifier, like the built-in ones.
METHOD_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_TENANT_METHODS = 100
BUILT_IN_METHODS = frozenset(m.value for m in CaptureMethod)
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


def check_source(
    kind: str, source_id: str | None, *, field: str = "source", id_field: str | None = None
) -> None:
    """``id_field``: what the request calls the id, if not ``<field>.id``."""
    id_field = id_field or f"{field}.id"
    if not SOURCE_KIND_PATTERN.match(kind):
        raise InvalidInput(
            f"source kind {kind!r} must be a lowercase identifier",
            field=f"{field}.kind",
            code="invalid_source",
        )
    if source_id is not None and not 0 < len(source_id) <= MAX_SOURCE_ID:
        raise InvalidInput(
            f"source id must be 1-{MAX_SOURCE_ID} characters",
            field=id_field,
            code="invalid_source",
        )
    check_text(source_id, field=id_field, limit=MAX_SOURCE_ID)


def check_method(
    method: str, *, extra: Collection[str] = (), field: str = "evidence.method"
) -> str:
    """A built-in capture method, or one of ``extra`` (the tenant's own)."""
    if method in BUILT_IN_METHODS or method in extra:
        return method
    known = ", ".join([*(m.value for m in CaptureMethod), *sorted(extra)])
    raise InvalidInput(
        f"unknown capture method {method!r}; known: {known} (a tenant adds its own with "
        "PUT /v1/tenants/{tenant}/capture-methods)",
        field=field,
        code="invalid_method",
    )


def check_tenant_methods(methods: Iterable[str], *, field: str = "methods") -> tuple[str, ...]:
    """A tenant's own capture method names: lowercase identifiers, none built in."""
    result: list[str] = []
    for index, method in enumerate(methods):
        where = f"{field}[{index}]"
        if not isinstance(method, str) or not METHOD_PATTERN.match(method):
            raise InvalidInput(
                f"capture method {method!r} must be 2-40 characters: lowercase letters, "
                "digits or '_', starting with a letter",
                field=where,
                code="invalid_method",
            )
        if method in BUILT_IN_METHODS:
            raise InvalidInput(
                f"{method!r} is a built-in capture method already",
                field=where,
                code="invalid_method",
            )
        if method not in result:
            result.append(method)
    if len(result) > MAX_TENANT_METHODS:
        raise InvalidInput(
            f"at most {MAX_TENANT_METHODS} capture methods of a tenant's own", field=field
        )
    return tuple(sorted(result))


def check_text(value: str | None, *, field: str, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise InvalidInput(f"longer than {limit} characters", field=field, code="too_long")
    if "\x00" in value:
        # PostgreSQL cannot store a NUL in text: refused here, before the shared group
        # commit, so it fails this unit alone (DESIGN.md §7, write path).
        raise InvalidInput("a NUL character is not allowed", field=field, code="invalid_text")
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
