"""Gupshup WhatsApp callbacks: ``user-event`` (opted-in / opted-out) and inbound ``message``.

Gupshup does not sign its callbacks (docs.gupshup.io/docs/webhook-key-points suggests
allow-listing its IPs). Its subscription API passes custom headers to the callback URL
for authentication (partner-docs.gupshup.io/reference/setsubscription-api-v3, ``meta``),
so the tenant's ``token`` is expected as ``Authorization: Bearer <token>``; where only a
callback URL can be set, as the ``token`` query parameter. Either is compared in
constant time; the payload's ``app`` must be the tenant's ``app_name``.

Shapes as documented (docs.gupshup.io/docs/user-event, /docs/text, /docs/interactive):
``{"app", "timestamp" (ms), "version": 2, "type", "payload"}``. Source ids: a message,
kind ``message`` and its WhatsApp message id (``payload.id``); a user event, kind
``gupshup_user_event`` and ``<phone>:<type>:<timestamp>``.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from api.gateways.fields import obj, optional, phone, required, source_id, unix_time
from api.gateways.senders import with_sender
from ledger.application.signals.intake import GatewayItem, Ignored
from ledger.domain.addresses import Channel
from ledger.domain.commands import CaptureMethod, Evidence, ReceiveMessage, Source
from ledger.domain.signals.reports import ProviderSignal, SignalAction
from ledger.domain.validation import MAX_TEXT

GATEWAY = "gupshup"
RECORDED_BY = "webhook:gupshup"


def token_valid(expected: str, authorization: str | None, query_token: str | None) -> bool:
    presented = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else authorization.strip()
    elif query_token:
        presented = query_token
    return presented is not None and hmac.compare_digest(
        presented.encode("utf-8"), expected.encode("utf-8")
    )


def parse(tenant: str, payload: Any, app_name: str) -> GatewayItem:
    root = obj(payload, "")
    kind = required(root, "type", "")
    if required(root, "app", "") != app_name:
        return Ignored("other_app")
    occurred_at = unix_time(root.get("timestamp"), "timestamp", milliseconds=True)
    body = obj(root.get("payload"), "payload")
    if kind == "user-event":
        return with_sender(_user_event(tenant, body, occurred_at, root.get("timestamp")), app_name)
    if kind == "message":
        return with_sender(_message(tenant, body, occurred_at), app_name)
    return Ignored(f"type:{kind}")


def _user_event(
    tenant: str, body: dict[str, Any], occurred_at: datetime, stamp: Any
) -> GatewayItem:
    event = required(body, "type", "payload")
    if event not in ("opted-in", "opted-out"):
        return Ignored(f"user-event:{event}")
    number = required(body, "phone", "payload")
    return ProviderSignal(
        tenant=tenant,
        channel=Channel.WHATSAPP.value,
        address=phone(Channel.WHATSAPP, number, "payload.phone"),
        action=SignalAction.OPTED_OUT if event == "opted-out" else SignalAction.OPTED_IN,
        occurred_at=occurred_at,
        source=Source(kind="gupshup_user_event", id=f"{number}:{event}:{stamp}"),
        evidence=Evidence(
            method=CaptureMethod.PROVIDER_SIGNAL,
            recorded_by=RECORDED_BY,
            gateway=GATEWAY,
            gateway_status=event,
        ),
    )


def _message(tenant: str, body: dict[str, Any], occurred_at: datetime) -> GatewayItem:
    kind = required(body, "type", "payload")
    content = obj(body.get("payload") or {}, "payload.payload")
    where = "payload.payload"
    text: str | None
    button: str | None
    if kind == "text":
        text, button = required(content, "text", where, limit=MAX_TEXT), None
    elif kind == "button_reply":
        text, button = optional(content, "title", where), required(content, "id", where)
    elif kind == "list_reply":
        text = optional(content, "title", where)
        button = optional(content, "postbackText", where) or required(content, "id", where)
    elif kind == "quick_reply":  # a template's quick-reply button: its text (and payload)
        text = optional(content, "text", where) or optional(content, "title", where)
        button = optional(content, "payload", where) or optional(content, "id", where)
    else:
        return Ignored(f"message:{kind}")
    if not (text or button):
        return Ignored("no_text")
    sender = obj(body.get("sender") or {}, "payload.sender")
    return ReceiveMessage(
        tenant=tenant,
        channel=Channel.WHATSAPP.value,
        address=phone(Channel.WHATSAPP, required(body, "source", "payload"), "payload.source"),
        message_id=source_id(body, "id", "payload"),
        occurred_at=occurred_at,
        text=text,
        button_payload=button,
        profile_name=optional(sender, "name", "payload.sender"),
        recorded_by=RECORDED_BY,
    )
