"""The compliance policy: jurisdictions from calling codes, business days, retention dates,
and settings that refuse a policy they cannot read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from ledger.domain.compliance_policy import (
    CompliancePolicy,
    add_years,
    business_days_between,
    jurisdiction_of,
)
from ledger.runtime.compliance_settings import ComplianceSettings


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_the_jurisdiction_is_the_calling_code_of_the_address() -> None:
    assert jurisdiction_of("+14155550100") == "US"
    assert jurisdiction_of("+919876543210") == "IN"
    assert jurisdiction_of("+971501234567") == "AE"
    assert jurisdiction_of("+999123") == "default"
    assert jurisdiction_of(None) == "default"  # erased


def test_business_days_skip_weekends() -> None:
    friday, monday = at("2026-11-27T18:00:00"), at("2026-11-30T09:00:00")
    assert business_days_between(friday, monday) == 1
    assert business_days_between(friday, at("2026-12-11T09:00:00")) == 10
    assert business_days_between(monday, friday) == 0
    assert business_days_between(monday, at("2026-11-30T23:00:00")) == 0


def test_retention_is_years_after_the_last_event_per_jurisdiction() -> None:
    policy = CompliancePolicy()
    last = at("2024-02-29T10:00:00")
    assert policy.retention_until("US", last) == at("2028-02-29T10:00:00")
    assert policy.retention_until("IN", last) == at("2031-02-28T10:00:00")
    assert add_years(at("2026-01-01T00:00:00"), 4) == at("2030-01-01T00:00:00")


def test_a_tenant_overrides_the_default_key_by_key() -> None:
    settings = ComplianceSettings(
        CONSENT_LEDGER_COMPLIANCE_POLICY='{"retention_years": {"default": 5},'
        ' "tenants": {"acme": {"revocation_business_days": {"US": 2}}}}'
    )
    acme, other = settings.policy_for("acme"), settings.policy_for("globex")
    assert (acme.revocation_limit("US"), acme.revocation_limit("GB")) == (2, 10)
    assert (acme.retention("US"), acme.retention("IN")) == (5, 7)
    assert (other.revocation_limit("US"), other.retention("US")) == (10, 5)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("{", "not JSON"),
        ('{"retention_years": {"US": 0}}', "retention_years.US"),
        ('{"retention_days": {}}', "retention_days"),
        ('{"tenants": {"acme": {"retention_years": {"IN": "7"}}}}', "tenants.acme"),
    ],
)
def test_a_policy_that_does_not_parse_is_refused_naming_the_key(text: str, names: str) -> None:
    with pytest.raises(ValidationError, match=names):
        ComplianceSettings(CONSENT_LEDGER_COMPLIANCE_POLICY=text)
