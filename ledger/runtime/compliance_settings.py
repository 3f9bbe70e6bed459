"""The compliance policy of every tenant, from the environment.

``CONSENT_LEDGER_COMPLIANCE_POLICY`` is JSON: the policy of every tenant, with overrides
per tenant, each a map of jurisdiction (``default``, ``US``, ``IN``…) to a number::

    {"revocation_business_days": {"default": 10},
     "retention_years": {"default": 4, "IN": 7},
     "tenants": {"acme": {"retention_years": {"default": 5}}}}

Unset: revocations within 10 business days, records kept 4 years (7 in India).
A setting that does not parse stops the process at start, naming the key.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.domain.compliance_policy import CompliancePolicy
from ledger.domain.errors import InvalidInput

ENV_NAME = "CONSENT_LEDGER_COMPLIANCE_POLICY"


class ComplianceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    policy_json: str = Field(default="", alias=ENV_NAME)

    @model_validator(mode="after")
    def _parses(self) -> ComplianceSettings:
        self.policies()
        return self

    def policies(self) -> tuple[CompliancePolicy, dict[str, CompliancePolicy]]:
        """The default policy and the tenants' own."""
        if not self.policy_json.strip():
            return CompliancePolicy(), {}
        try:
            doc: Any = json.loads(self.policy_json)
        except ValueError as error:
            raise ValueError(f"{ENV_NAME} is not JSON: {error}") from None
        if not isinstance(doc, dict):
            raise ValueError(f"{ENV_NAME} must be a JSON object")
        tenants = doc.pop("tenants", {})
        try:
            base = CompliancePolicy.from_dict(doc, field_name=ENV_NAME)
            own = {
                str(name): CompliancePolicy.from_dict(
                    _merged(base.to_dict(), override), field_name=f"{ENV_NAME}.tenants.{name}"
                )
                for name, override in dict(tenants).items()
            }
        except (InvalidInput, TypeError) as error:
            raise ValueError(f"{error} ({getattr(error, 'field', ENV_NAME)})") from None
        return base, own

    def policy_for(self, tenant: str) -> CompliancePolicy:
        base, own = self.policies()
        return own.get(tenant, base)


def _merged(base: dict[str, Any], override: Any) -> dict[str, Any]:
    """The tenant's maps laid over the default policy's, key by key."""
    if not isinstance(override, dict):
        raise TypeError("a tenant's policy must be a JSON object")
    merged = dict(base)
    for key, value in override.items():
        merged[key] = {**base[key], **value} if isinstance(value, dict) and key in base else value
    return merged
