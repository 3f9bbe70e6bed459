"""A tenant's settings: a pure fold of its settings events, and the policy they make."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from uuid import UUID

from ledger.domain.keywords import KeywordRules
from ledger.domain.tenants.burst_guard import BurstGuard
from ledger.domain.tenants.buttons import ButtonMapping, parse_buttons
from ledger.domain.tenants.first_message import FirstMessageRequest
from ledger.domain.tenants.policy import (
    DEFAULT_KEYWORD_PURPOSES,
    DEFAULT_REQUEST_WINDOW,
    TenantPolicy,
)
from ledger.domain.tenants.reply_texts import ReplyTexts
from ledger.events import GENESIS_HASH
from ledger.tenants.events import (
    BurstGuardChanged,
    CaptureMethodsChanged,
    FirstMessageRequestChanged,
    GatewayConfigured,
    KeywordRulesChanged,
    LapsePolicyChanged,
    OptOutScopeChanged,
    ReplyTextsChanged,
    RequestWindowChanged,
    TenantSettingsEvent,
)


@dataclass(frozen=True)
class GatewayConfig:
    """A gateway as configured: non-secret settings and where its secrets are kept."""

    gateway: str
    settings: Mapping[str, str]
    fingerprints: Mapping[str, str]
    secret_id: str
    version: int
    changed_at: datetime


@dataclass(frozen=True)
class TenantSettings:
    tenant: str
    version: int = 0
    last_hash: str = GENESIS_HASH
    last_event_id: UUID | None = None
    rules: KeywordRules = field(default_factory=KeywordRules)
    buttons: Mapping[str, ButtonMapping] = field(default_factory=lambda: MappingProxyType({}))
    keyword_purposes: tuple[str, ...] = DEFAULT_KEYWORD_PURPOSES
    texts: ReplyTexts = field(default_factory=ReplyTexts)
    request_window: timedelta = DEFAULT_REQUEST_WINDOW
    gateways: Mapping[str, GatewayConfig] = field(default_factory=lambda: MappingProxyType({}))
    first_message: FirstMessageRequest | None = None
    capture_methods: tuple[str, ...] = ()
    opt_out_scope: str = "channel"
    lapse_months: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    burst_guard: BurstGuard = field(default_factory=BurstGuard)

    def policy(self) -> TenantPolicy:
        return TenantPolicy(
            rules=self.rules,
            request_window=self.request_window,
            keyword_purposes=self.keyword_purposes,
            buttons=self.buttons,
            texts=self.texts,
            first_message=self.first_message,
            capture_methods=frozenset(self.capture_methods),
            lapse_months=self.lapse_months,
            burst_guard=self.burst_guard,
            version=self.version,
            event_id=self.last_event_id,
            opt_out_scope=self.opt_out_scope,
        )


def fold_settings(tenant: str, events: Iterable[TenantSettingsEvent]) -> TenantSettings:
    settings = TenantSettings(tenant=tenant)
    for event in events:
        settings = apply_setting(settings, event)
    return settings


def apply_setting(settings: TenantSettings, event: TenantSettingsEvent) -> TenantSettings:
    advanced = replace(
        settings,
        version=event.originator_version,
        last_hash=event.hash,
        last_event_id=event.event_id,
    )
    if isinstance(event, KeywordRulesChanged):
        return replace(
            advanced,
            rules=KeywordRules.from_dict(event.rules),
            buttons=MappingProxyType(parse_buttons(event.buttons)),
            keyword_purposes=tuple(event.keyword_purposes),
        )
    if isinstance(event, ReplyTextsChanged):
        return replace(advanced, texts=ReplyTexts.from_dict(event.texts))
    if isinstance(event, RequestWindowChanged):
        return replace(advanced, request_window=timedelta(seconds=event.seconds))
    if isinstance(event, FirstMessageRequestChanged):
        ask = FirstMessageRequest.from_dict(event.request) if event.enabled else None
        return replace(advanced, first_message=ask)
    if isinstance(event, OptOutScopeChanged):
        return replace(advanced, opt_out_scope=event.scope)
    if isinstance(event, CaptureMethodsChanged):
        return replace(advanced, capture_methods=tuple(event.methods))
    if isinstance(event, LapsePolicyChanged):
        return replace(advanced, lapse_months=MappingProxyType(dict(event.months)))
    if isinstance(event, BurstGuardChanged):
        guard = BurstGuard(event.enabled, event.max_opt_outs, event.window_seconds)
        return replace(advanced, burst_guard=guard)
    if isinstance(event, GatewayConfigured):
        gateways = dict(settings.gateways)
        gateways[event.gateway] = GatewayConfig(
            gateway=event.gateway,
            settings=MappingProxyType(dict(event.settings)),
            fingerprints=MappingProxyType(dict(event.fingerprints)),
            secret_id=event.secret_id,
            version=event.originator_version,
            changed_at=event.timestamp,
        )
        return replace(advanced, gateways=MappingProxyType(gateways))
    return advanced
