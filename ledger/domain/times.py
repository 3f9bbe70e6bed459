"""Times: RFC 3339 in UTC, one spelling for one instant, and the clock."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

_NO_OFFSET = timedelta(0)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z``: one spelling for one instant."""
    if moment.fold:  # the repeated hour of a zone: equal to its twin, not the same instant
        return _spelled(moment)
    return _remembered(moment)


def _spelled(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: a time zone is required")
    if moment.utcoffset() == _NO_OFFSET:  # in UTC already (most times): no conversion
        spelled = moment.isoformat(timespec="microseconds")
        if spelled.endswith("+00:00"):
            return spelled[:-6] + "Z"
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# Equal aware datetimes (fold 0) are one instant with one spelling, so spellings are
# remembered by value: a group's events share their recorded time, a batch's often their
# occurred time.
_remembered = functools.lru_cache(maxsize=4096)(_spelled)


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time that carries a zone; return it in UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset")
    return moment.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)
