"""Consent that lapses: a grant older than the tenant's policy allows for its purpose.

A tenant may say a grant of a purpose stays in force N months after the last grant or
renewal (``TenantPolicy.lapse_months``). ``lapses_at`` is that moment; once it has
passed, the expiry process records ``ConsentLapsed`` for the purposes still held by that
grant. A re-permission request before then (an ordinary opt-in request for a purpose the
subject holds) renews the grant when accepted. Pure: no I/O.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime

from ledger.domain.commands import CaptureMethod, Evidence, Source
from ledger.domain.consent_status import PurposeStatus, Status, SubjectState
from ledger.domain.drafts import Draft
from ledger.domain.errors import InvalidInput
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.times import format_time
from ledger.domain.validation import PURPOSE_PATTERN
from ledger.events import ConsentLapsed

LAPSE_SOURCE_KIND = "lapse"
MIN_MONTHS, MAX_MONTHS = 1, 120


MAX_PURPOSES = 100


def check_lapse_months(months: Mapping[str, int], *, field: str = "months") -> dict[str, int]:
    """A lapse policy: known-shaped purposes, each 1-120 months."""
    if len(months) > MAX_PURPOSES:
        raise InvalidInput(f"at most {MAX_PURPOSES} purposes", field=field)
    checked: dict[str, int] = {}
    for purpose, count in sorted(months.items()):
        where = f"{field}.{purpose}"
        if not PURPOSE_PATTERN.match(purpose):
            raise InvalidInput(
                f"purpose {purpose!r} must be a lowercase identifier",
                field=where,
                code="invalid_purpose",
            )
        if isinstance(count, bool) or not isinstance(count, int):
            raise InvalidInput("months must be a whole number", field=where, code="invalid_months")
        if not MIN_MONTHS <= count <= MAX_MONTHS:
            raise InvalidInput(
                f"months must be {MIN_MONTHS}-{MAX_MONTHS}", field=where, code="invalid_months"
            )
        checked[purpose] = count
    return checked


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months later (the last day of a shorter
    month: 31 January + 1 month is 28 or 29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def lapses_at(status: PurposeStatus | None, months: int | None) -> datetime | None:
    """When an ``opted_in`` status lapses under a policy of ``months`` (None: never)."""
    if status is None or months is None or status.status is not Status.OPTED_IN:
        return None
    return add_months(status.since, months)


def decide_lapses(state: SubjectState, policy: TenantPolicy, now: datetime) -> list[Draft]:
    """One ``ConsentLapsed`` per grant whose purposes reached their age by ``now``."""
    due: dict[tuple[datetime, datetime, int], list[str]] = defaultdict(list)
    for purpose, months in sorted(policy.lapse_months.items()):
        status = state.status_of(purpose)
        moment = lapses_at(status, months)
        if status is not None and moment is not None and moment <= now:
            due[(status.since, moment, months)].append(purpose)
    return [
        Draft(
            cls=ConsentLapsed,
            occurred_at=moment,
            # One lapse per grant and moment: two expiry processes record it once.
            source=Source(LAPSE_SOURCE_KIND, f"{state.id}:{format_time(granted)}:{months}"),
            evidence=Evidence(
                method=CaptureMethod.API, recorded_by="ledger", rules_version=policy.version
            ),
            purposes=tuple(purposes),
            own_fields={"granted_at": granted, "months": months},
        )
        for (granted, moment, months), purposes in sorted(due.items())
    ]
