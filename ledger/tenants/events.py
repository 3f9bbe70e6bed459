"""The events of a tenant's settings: each change, with who made it, in a hash chain.

They are ``LedgerEvent``s (not ``ConsentEvent``s): they share the ledger's log, its
notification ids, hashing and publishing, but no consent fold ever reads them. Stored
class paths and field names are a schema, as for the consent events. Secrets never
appear here: a gateway change carries its non-secret settings and a keyed fingerprint
of each secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from ledger.events import LedgerEvent

# Fixed forever: a tenant's settings aggregate id is a UUIDv5 of its name.
TENANT_SETTINGS_NAMESPACE = UUID("2c4b7f0e-8d1a-5e93-b6c2-71f0a9d3e845")
# Tenant settings are not about one channel.
NO_CHANNEL = ""


def settings_id(tenant: str) -> UUID:
    return uuid5(TENANT_SETTINGS_NAMESPACE, tenant)


@dataclass(frozen=True)
class TenantSettingsEvent(LedgerEvent):
    changed_by: str | None  # API key id, or "cli"


@dataclass(frozen=True)
class KeywordRulesChanged(TenantSettingsEvent):
    """The keyword rules, button payload mapping and opt-in keyword purposes in force."""

    type_name = "tenant_keywords_changed"
    rules: dict[str, Any]  # KeywordRules.to_dict()
    buttons: dict[str, dict[str, Any]]  # payload id -> {"action", "purposes"}
    keyword_purposes: list[str]


@dataclass(frozen=True)
class ReplyTextsChanged(TenantSettingsEvent):
    """The texts of confirmations, the help reply and the rejection reply."""

    type_name = "tenant_texts_changed"
    texts: dict[str, str]


@dataclass(frozen=True)
class RequestWindowChanged(TenantSettingsEvent):
    type_name = "tenant_request_window_changed"
    seconds: int


@dataclass(frozen=True)
class GatewayConfigured(TenantSettingsEvent):
    """A gateway's configuration changed: its non-secret settings and secret fingerprints.

    ``secret_id`` names the row of the separate secret store that holds the secrets
    of this configuration; the fingerprints let an auditor holding that store check
    which secrets were in force without the log ever revealing them.
    """

    type_name = "tenant_gateway_configured"
    gateway: str
    settings: dict[str, str]
    fingerprints: dict[str, str]
    secret_id: str


@dataclass(frozen=True)
class FirstMessageRequestChanged(TenantSettingsEvent):
    """Whether a new subject's first message that matches no keyword gets an opt-in
    request, and which (``request``: purposes, template, business name; empty when off)."""

    type_name = "tenant_first_message_request_changed"
    enabled: bool
    request: dict[str, Any]


@dataclass(frozen=True)
class CaptureMethodsChanged(TenantSettingsEvent):
    """The capture methods of the tenant's own, beside the built-in ones."""

    type_name = "tenant_capture_methods_changed"
    methods: list[str]


@dataclass(frozen=True)
class OptOutScopeChanged(TenantSettingsEvent):
    """Whether an opt-out sent to one of the tenant's senders withdraws consent from that
    sender only (``sender``) or from the whole channel (``channel``, the default)."""

    type_name = "tenant_opt_out_scope_changed"
    scope: str


@dataclass(frozen=True)
class LapsePolicyChanged(TenantSettingsEvent):
    """How many months a grant of each purpose stays in force without a renewal (purposes
    not named never lapse)."""

    type_name = "tenant_lapse_policy_changed"
    months: dict[str, int]


@dataclass(frozen=True)
class BurstGuardChanged(TenantSettingsEvent):
    """Whether an unusual spike of gateway opt-outs is held for review, and what is
    unusual: ``max_opt_outs`` within ``window_seconds``."""

    type_name = "tenant_burst_guard_changed"
    enabled: bool
    max_opt_outs: int
    window_seconds: int
