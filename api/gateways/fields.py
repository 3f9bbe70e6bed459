"""Reading a gateway's JSON: each accessor names the exact field when a value is wrong.

Errors are ``InvalidInput`` (422 ``invalid_input``) with the path of the field, e.g.
``entry[0].changes[1].value.messages[0].from``; nothing of the payload is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ledger.domain.addresses import Channel, normalise_address
from ledger.domain.errors import InvalidInput
from ledger.domain.validation import MAX_SHORT, MAX_SOURCE_ID, check_occurred_at, check_text


def obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{path or 'the body'} must be a JSON object", field=path or None)
    return value


def objects(
    parent: dict[str, Any], key: str, path: str, *, required: bool = False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, object) of each element of the list ``parent[key]`` (absent: none)."""
    where = f"{path}.{key}" if path else key
    value = parent.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"{where} is required", field=where, code="missing_field")
        return
    if not isinstance(value, list):
        raise InvalidInput(f"{where} must be a list", field=where)
    for index, element in enumerate(value):
        yield f"{where}[{index}]", obj(element, f"{where}[{index}]")


def optional(parent: dict[str, Any], key: str, path: str, *, limit: int = MAX_SHORT) -> str | None:
    """A string field that may be absent (or empty)."""
    where = f"{path}.{key}" if path else key
    value = parent.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string", field=where)
    check_text(value, field=where, limit=limit)
    return value


def required(parent: dict[str, Any], key: str, path: str, *, limit: int = MAX_SHORT) -> str:
    value = optional(parent, key, path, limit=limit)
    if value is None:
        where = f"{path}.{key}" if path else key
        raise InvalidInput(f"{where} is required", field=where, code="missing_field")
    return value


def source_id(parent: dict[str, Any], key: str, path: str) -> str:
    return required(parent, key, path, limit=MAX_SOURCE_ID)


def unix_time(value: Any, path: str, *, milliseconds: bool = False) -> datetime:
    """A Unix timestamp (seconds, or milliseconds) given as a number or a digit string."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"{path} must be a Unix timestamp", field=path, code="invalid_time")
    seconds = value / 1000 if milliseconds else value
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(f"{path} is out of range", field=path, code="invalid_time") from None
    return check_occurred_at(moment, field=path)


def phone(channel: Channel, value: str, path: str) -> str:
    """The E.164 form of a gateway's phone number (``16315551181``, ``whatsapp:+1…``)."""
    return normalise_address(channel, value, field=path)
