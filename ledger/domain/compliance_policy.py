"""A tenant's compliance policy per jurisdiction: how fast a revocation must be honoured,
and how long its consent records are kept.

A subject's jurisdiction is read from its address's country calling code (E.164); an
address without a known code, or an erased one, falls under ``default``. Policies come
from settings (``ledger/runtime/compliance_settings.py``): one default for every tenant,
and overrides per tenant.

Defaults:
- revocations honoured within 10 business days (FCC 24-24, 47 CFR 64.1200(a)(10));
- records kept 4 years after the subject's last event (TCPA's 4-year limitation period,
  28 U.S.C. 1658), 7 years in India (DPDP Rules 2025: consent managers keep records 7 years).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledger.domain.errors import InvalidInput

DEFAULT = "default"
CONTROLLER_FIELDS = frozenset({"name", "contact", "email", "phone", "address", "policy_url", "url"})
# Country calling codes -> jurisdiction names (ISO 3166 alpha-2; +1 is the NANP: "US").
CALLING_CODES: dict[str, str] = {
    "1": "US",
    "7": "RU",
    "27": "ZA",
    "30": "GR",
    "31": "NL",
    "32": "BE",
    "33": "FR",
    "34": "ES",
    "39": "IT",
    "41": "CH",
    "43": "AT",
    "44": "GB",
    "45": "DK",
    "46": "SE",
    "47": "NO",
    "48": "PL",
    "49": "DE",
    "52": "MX",
    "55": "BR",
    "61": "AU",
    "62": "ID",
    "63": "PH",
    "65": "SG",
    "81": "JP",
    "82": "KR",
    "86": "CN",
    "90": "TR",
    "91": "IN",
    "92": "PK",
    "234": "NG",
    "254": "KE",
    "351": "PT",
    "353": "IE",
    "880": "BD",
    "966": "SA",
    "971": "AE",
}


def jurisdiction_of(address: str | None) -> str:
    """The jurisdiction of an E.164 address, or ``default`` when unknown (or erased)."""
    if not address or not address.startswith("+"):
        return DEFAULT
    digits = address[1:]
    for length in (3, 2, 1):
        found = CALLING_CODES.get(digits[:length])
        if found is not None:
            return found
    return DEFAULT


def business_days_between(start: datetime, end: datetime) -> int:
    """Weekdays (Monday to Friday, UTC dates) after ``start``'s date up to ``end``'s date.

    Public holidays are not counted out: the count errs toward flagging late.
    """
    first, last = start.date(), end.date()
    if last <= first:
        return 0
    days = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


def add_years(moment: datetime, years: int) -> datetime:
    """The same moment ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@dataclass(frozen=True)
class CompliancePolicy:
    revocation_business_days: Mapping[str, int] = field(default_factory=lambda: {DEFAULT: 10})
    retention_years: Mapping[str, int] = field(default_factory=lambda: {DEFAULT: 4, "IN": 7})
    # The controller named in standard consent records: name, contact, email, phone,
    # address (an object), policy_url, url. Empty: not configured.
    controller: Mapping[str, Any] = field(default_factory=dict)

    def revocation_limit(self, jurisdiction: str) -> int:
        return self.revocation_business_days.get(
            jurisdiction, self.revocation_business_days.get(DEFAULT, 10)
        )

    def retention(self, jurisdiction: str) -> int:
        return self.retention_years.get(jurisdiction, self.retention_years.get(DEFAULT, 4))

    def retention_until(self, jurisdiction: str, last_event_at: datetime) -> datetime:
        return add_years(last_event_at, self.retention(jurisdiction))

    def to_dict(self) -> dict[str, Any]:
        return {
            "revocation_business_days": dict(self.revocation_business_days),
            "retention_years": dict(self.retention_years),
            "controller": dict(self.controller),
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, field_name: str = "policy") -> CompliancePolicy:
        base = cls()
        days = _counts(
            doc.get("revocation_business_days", {}), f"{field_name}.revocation_business_days"
        )
        years = _counts(doc.get("retention_years", {}), f"{field_name}.retention_years")
        unknown = set(doc) - {"revocation_business_days", "retention_years", "controller"}
        if unknown:
            raise InvalidInput(f"unknown policy keys {sorted(unknown)}", field=field_name)
        controller = doc.get("controller", {})
        if not isinstance(controller, Mapping) or set(controller) - CONTROLLER_FIELDS:
            raise InvalidInput(
                f"the controller is an object of {sorted(CONTROLLER_FIELDS)}",
                field=f"{field_name}.controller",
            )
        return cls(
            revocation_business_days={**base.revocation_business_days, **days},
            retention_years={**base.retention_years, **years},
            controller=dict(controller),
        )


def _counts(value: Any, field_name: str) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise InvalidInput("must be an object of jurisdiction -> number", field=field_name)
    counts: dict[str, int] = {}
    for key, number in value.items():
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number <= 100:
            raise InvalidInput(f"{key}: a whole number 1-100", field=f"{field_name}.{key}")
        counts[str(key)] = number
    return counts
