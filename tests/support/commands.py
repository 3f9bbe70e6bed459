"""Commands as a gateway or a form would send them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from ledger.domain.commands import (
    CaptureMethod,
    Evidence,
    Notice,
    NumberCheck,
    ReceiveMessage,
    RecordConsent,
    RequestOptIn,
    Source,
)
from ledger.domain.signals.reports import ProviderSignal, SignalAction


def now() -> datetime:
    return datetime.now(UTC)


def message(
    address: str, text: str, *, tenant: str = "acme", message_id: str | None = None
) -> ReceiveMessage:
    return ReceiveMessage(
        tenant=tenant,
        channel="whatsapp",
        address=address,
        message_id=message_id or f"wamid.{uuid4().hex}",
        occurred_at=now() - timedelta(seconds=1),
        text=text,
    )


def opt_in(
    address: str,
    *,
    tenant: str = "acme",
    purposes: tuple[str, ...] = ("marketing",),
    source_id: str | None = None,
    kind: str = "opted_in",
) -> RecordConsent:
    return RecordConsent(
        tenant=tenant,
        channel="whatsapp",
        address=address,
        type=kind,
        purposes=purposes,
        occurred_at=now() - timedelta(seconds=1),
        source=Source("web_form", source_id or f"form-{uuid4().hex}"),
        evidence=Evidence(
            method=CaptureMethod.WEB_FORM, text="I agree to receive offers", ip="203.0.113.9"
        ),
    )


def optin_request(address: str, *, tenant: str = "acme") -> RequestOptIn:
    """An opt-in request for marketing, as ``POST /v1/optin-requests`` would make it."""
    return RequestOptIn(
        tenant=tenant,
        channel="whatsapp",
        address=address,
        purposes=("marketing",),
        template=Notice(id="welcome", version="2", text="Reply YES to get updates"),
        business_name="Acme",
        source=Source(kind="api"),
    )


def invalidation(
    address: str, *, tenant: str = "acme", reason: str = "number_reassigned"
) -> RecordConsent:
    """A ``consent_invalidated`` from a reassigned-numbers query (FCC RND answered yes)."""
    at = now() - timedelta(seconds=1)
    return RecordConsent(
        tenant=tenant,
        channel="whatsapp",
        address=address,
        type="consent_invalidated",
        occurred_at=at,
        source=Source("rnd_query", f"rnd-{uuid4().hex}"),
        evidence=Evidence(method=CaptureMethod.API),
        reason=reason,
        number_check=NumberCheck("fcc_rnd", at, "yes"),
    )


def gateway_opt_out(address: str, *, tenant: str = "acme") -> ProviderSignal:
    """A gateway's own opt-out (WhatsApp 131050: the person stopped marketing)."""
    return ProviderSignal(
        tenant=tenant,
        channel="whatsapp",
        address=address,
        action=SignalAction.OPTED_OUT,
        occurred_at=now() - timedelta(seconds=1),
        source=Source("whatsapp_status", f"wamid.{uuid4().hex}"),
        evidence=Evidence(
            method=CaptureMethod.PROVIDER_SIGNAL, gateway="whatsapp", gateway_error="131050"
        ),
        purposes=("marketing",),
    )
