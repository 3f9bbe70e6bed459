"""``TenantSettingsBook``: change a tenant's settings and read them back.

Each change is one settings event appended to the tenant's own chain in the ledger's
log; the secrets of a gateway go to the separate secret table first, and the event
names the row (``secret_id``) and carries fingerprints, never the secrets.
"""

from __future__ import annotations

import logging
import secrets as random_secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from eventsourcing.persistence import PersistenceError

from ledger.application.ports import TenantSettingsLedger
from ledger.application.retry import DEFAULT_RETRY, RetryPolicy
from ledger.application.tenants.reading import read_settings
from ledger.crypto.chain import ChainHead, link
from ledger.crypto.secret_box import SecretBox, fingerprint, new_salt
from ledger.domain.errors import DatabaseAway, InvalidInput, Unavailable
from ledger.domain.keywords import KeywordRules
from ledger.domain.lapses import check_lapse_months
from ledger.domain.records import HistoryEntry
from ledger.domain.sender_scope import parse_scope
from ledger.domain.tenants.burst_guard import check_burst_guard
from ledger.domain.tenants.buttons import ButtonMapping
from ledger.domain.tenants.first_message import FirstMessageRequest
from ledger.domain.tenants.gateways import Gateway, split_fields
from ledger.domain.tenants.tenant_settings import GatewayConfig, TenantSettings
from ledger.domain.validation import check_purposes, check_tenant, check_tenant_methods
from ledger.persistence.gateway_secrets import StoredSecrets, gateway_secret_table
from ledger.tenants.events import (
    NO_CHANNEL,
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
    settings_id,
)

log = logging.getLogger(__name__)

MIN_WINDOW = timedelta(minutes=1)
MAX_WINDOW = timedelta(days=30)


class TenantSettingsBook:
    def __init__(
        self, core: TenantSettingsLedger, box: SecretBox, retry: RetryPolicy = DEFAULT_RETRY
    ) -> None:
        self.core = core
        self.box = box
        self.retry = retry
        self.secrets = gateway_secret_table(core.store)

    # ------------------------------------------------------------------ queries
    def settings(self, tenant: str) -> TenantSettings:
        return read_settings(self.core, tenant, self.retry)

    def history(self, tenant: str) -> list[HistoryEntry]:
        """Every settings event in order, with positions and hashes (no secrets in them)."""
        entries: list[HistoryEntry] = []
        for item in self.core.store.select_positioned(settings_id(tenant)):
            event = self.core.ledger_event(item.stored)
            entries.append(
                HistoryEntry(
                    document=event.document(),
                    hash=event.hash,
                    position=item.position,
                    disclosures=None,
                )
            )
        return entries

    def gateway(self, tenant: str, gateway: Gateway) -> tuple[GatewayConfig, dict[str, str]] | None:
        """The gateway's configuration and its secrets, or None if it is not configured."""
        config = self.settings(tenant).gateways.get(gateway.value)
        try:
            # Not configured: the same secrets lookup all the same (it finds nothing), so a
            # webhook to an unknown tenant takes as long as one with a wrong signature.
            row = self.secrets.select(tenant, gateway.value, config.secret_id if config else "")
        except PersistenceError as exc:
            raise DatabaseAway("the ledger database is unavailable") from exc
        if config is None:
            return None
        if row is None:  # pragma: no cover - the row is written before the event
            raise Unavailable(f"the {gateway.value} secrets of tenant {tenant!r} are missing")
        return config, self.box.decrypt(row.scheme, row.sealed, _context(row))

    # ----------------------------------------------------------------- commands
    def change_keywords(
        self,
        tenant: str,
        rules: KeywordRules,
        buttons: Mapping[str, ButtonMapping],
        keyword_purposes: tuple[str, ...],
        *,
        changed_by: str | None,
    ) -> TenantSettingsEvent:
        purposes = check_purposes(keyword_purposes, field="opt_in_purposes")
        if not purposes:
            raise InvalidInput("at least one purpose is required", field="opt_in_purposes")
        return self._record(
            tenant,
            KeywordRulesChanged,
            changed_by,
            rules=rules.to_dict(),
            buttons={k: v.to_dict() for k, v in buttons.items()},
            keyword_purposes=list(purposes),
        )

    def change_texts(
        self, tenant: str, texts: Mapping[str, Any], *, changed_by: str | None
    ) -> TenantSettingsEvent:
        """Replace the texts given; the others keep their current values."""
        updated = self.settings(tenant).texts.updated(texts)
        return self._record(tenant, ReplyTextsChanged, changed_by, texts=updated.to_dict())

    def change_opt_out_scope(
        self, tenant: str, scope: str, *, changed_by: str | None
    ) -> TenantSettingsEvent:
        """What an opt-out sent to one sender withdraws: ``sender`` or ``channel``."""
        return self._record(tenant, OptOutScopeChanged, changed_by, scope=parse_scope(scope))

    def change_request_window(
        self, tenant: str, window: timedelta, *, changed_by: str | None
    ) -> TenantSettingsEvent:
        if not MIN_WINDOW <= window <= MAX_WINDOW:
            raise InvalidInput(
                f"the request window is {int(MIN_WINDOW.total_seconds())}-"
                f"{int(MAX_WINDOW.total_seconds())} seconds",
                field="seconds",
            )
        return self._record(
            tenant, RequestWindowChanged, changed_by, seconds=int(window.total_seconds())
        )

    def change_first_message_request(
        self, tenant: str, ask: FirstMessageRequest | None, *, changed_by: str | None
    ) -> TenantSettingsEvent:
        """Ask on first message with ``ask`` (a checked ``FirstMessageRequest``), or stop
        asking (None)."""
        return self._record(
            tenant,
            FirstMessageRequestChanged,
            changed_by,
            enabled=ask is not None,
            request=ask.to_dict() if ask is not None else {},
        )

    def change_capture_methods(
        self, tenant: str, methods: list[str], *, changed_by: str | None
    ) -> TenantSettingsEvent:
        """Replace the tenant's own capture methods (the built-in ones always stay)."""
        checked = check_tenant_methods(methods)
        return self._record(tenant, CaptureMethodsChanged, changed_by, methods=list(checked))

    def change_lapse_policy(
        self, tenant: str, months: Mapping[str, int], *, changed_by: str | None
    ) -> TenantSettingsEvent:
        """Replace the lapse policy: months a grant of each purpose stays in force."""
        checked = check_lapse_months(months)
        return self._record(tenant, LapsePolicyChanged, changed_by, months=checked)

    def change_burst_guard(
        self,
        tenant: str,
        *,
        enabled: bool,
        max_opt_outs: int,
        window_seconds: int,
        changed_by: str | None,
    ) -> TenantSettingsEvent:
        """Hold gateway opt-outs beyond ``max_opt_outs`` within ``window_seconds``."""
        guard = check_burst_guard(enabled, max_opt_outs, window_seconds)
        return self._record(tenant, BurstGuardChanged, changed_by, **guard.to_dict())

    def configure_gateway(
        self, tenant: str, gateway: Gateway, values: Mapping[str, Any], *, changed_by: str | None
    ) -> TenantSettingsEvent:
        check_tenant(tenant)
        public, secret = split_fields(gateway, values)
        salt = new_salt()
        secret_id = random_secrets.token_hex(8)
        row = StoredSecrets(tenant, gateway.value, secret_id, "", "", salt)
        scheme, sealed = self.box.encrypt(secret, _context(row))
        self.secrets.insert(StoredSecrets(tenant, gateway.value, secret_id, scheme, sealed, salt))
        event, before = self._recorded(
            tenant,
            GatewayConfigured,
            changed_by,
            gateway=gateway.value,
            settings=public,
            fingerprints={name: fingerprint(salt, value) for name, value in secret.items()},
            secret_id=secret_id,
        )
        superseded = before.gateways.get(gateway.value)
        if superseded is not None:  # the configuration this event replaced, and only it
            self.secrets.delete(tenant, gateway.value, superseded.secret_id)
        log.info(
            "gateway configured",
            extra={"tenant": tenant, "gateway": gateway.value, "version": event.originator_version},
        )
        return event

    # ------------------------------------------------------------------ helpers
    def _record(
        self,
        tenant: str,
        cls: type[TenantSettingsEvent],
        changed_by: str | None,
        **values: Any,
    ) -> TenantSettingsEvent:
        return self._recorded(tenant, cls, changed_by, **values)[0]

    def _recorded(
        self,
        tenant: str,
        cls: type[TenantSettingsEvent],
        changed_by: str | None,
        **values: Any,
    ) -> tuple[TenantSettingsEvent, TenantSettings]:
        """The event appended, and the settings it was appended to."""
        check_tenant(tenant)

        def append() -> tuple[TenantSettingsEvent, TenantSettings]:
            current = self.settings(tenant)
            head = ChainHead(
                settings_id(tenant), current.version, current.last_hash, tenant, NO_CHANNEL
            )
            event = link(cls, head, recorded_at=self.core.clock(), changed_by=changed_by, **values)
            # A conflict (another writer changed the settings first) applies it on top.
            self.core.append(event)
            return event, current

        appended = self.retry.run(append, outcome="nothing changed")
        self.core.forget_policy(tenant)  # this process classifies with it from now on
        return appended


def _context(row: StoredSecrets) -> bytes:
    return f"{row.tenant}\x1f{row.gateway}\x1f{row.secret_id}".encode()
