"""Meta's WhatsApp Cloud API webhooks: the subscription handshake, ``X-Hub-Signature-256``
and the ``messages`` and ``user_preferences`` payloads.

Shapes as documented by Meta (developers.facebook.com/documentation/business-messaging/
whatsapp/webhooks/reference/): ``messages`` (text, interactive button_reply/list_reply,
template quick-reply ``button``), ``statuses`` (with ``errors`` and
``biz_opaque_callback_data``) and ``user_preferences`` (``marketing_messages`` stop /
resume). Source ids, so a redelivery is recorded once:

* a message: kind ``message``, the ``wamid`` (as ``POST /v1/messages/inbound`` uses);
* a status: kind ``whatsapp_status``, ``<wamid>:<status>`` (a message fails once);
* a preference: kind ``whatsapp_user_preferences``, ``<wa_id>:<category>:<value>:<timestamp>``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from api.gateways.fields import obj, objects, optional, phone, required, source_id, unix_time
from api.gateways.senders import with_sender
from ledger.application.signals.intake import GatewayItem, Ignored
from ledger.domain.addresses import Channel
from ledger.domain.commands import CaptureMethod, Evidence, ReceiveMessage, Source
from ledger.domain.outbound.ids import OutboundKind, parse_outbound_id
from ledger.domain.signals.reports import (
    DELIVERY_STATES,
    DeliveryReport,
    DeliveryStatus,
    ProviderSignal,
    SignalAction,
)
from ledger.domain.validation import MAX_TEXT

GATEWAY = "whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
RECORDED_BY = "webhook:whatsapp"
# Cloud API error codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes)
STOPPED_MARKETING = 131050  # the person stopped marketing messages from this business
UNDELIVERABLE = 131026  # e.g. the number is not a WhatsApp user
MARKETING = ("marketing",)


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """``sha256=<hex HMAC-SHA256 of the raw body with the app secret>``, compared in
    constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    presented = header.removeprefix("sha256=").strip().lower()
    # As bytes: ``compare_digest`` refuses a str with non-ASCII characters (a TypeError,
    # a 500) and a header may hold any latin-1 character.
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8"))


def parse(tenant: str, payload: Any, phone_number_id: str) -> list[GatewayItem]:
    """Every message, status and preference of the payload, as ledger commands."""
    root = obj(payload, "")
    if root.get("object") != "whatsapp_business_account":
        return [Ignored(f"object:{root.get('object')}")]
    items: list[GatewayItem] = []
    for entry_path, entry in objects(root, "entry", "", required=True):
        for path, change in objects(entry, "changes", entry_path, required=True):
            field = required(change, "field", path)
            value = obj(change.get("value"), f"{path}.value")
            metadata = obj(value.get("metadata") or {}, f"{path}.value.metadata")
            if str(metadata.get("phone_number_id", phone_number_id)) != phone_number_id:
                items.append(Ignored("other_phone_number"))
                continue
            sender = str(metadata.get("phone_number_id", phone_number_id))
            if field == "messages":
                found = _messages(tenant, value, f"{path}.value")
            elif field == "user_preferences":
                found = _preferences(tenant, value, f"{path}.value")
            else:
                items.append(Ignored(f"field:{field}"))
                continue
            items += [with_sender(item, sender) for item in found]
    return items


def _messages(tenant: str, value: dict[str, Any], path: str) -> list[GatewayItem]:
    names: dict[str, str] = {}
    for contact_path, contact in objects(value, "contacts", path):
        wa_id = optional(contact, "wa_id", contact_path)
        profile = obj(contact.get("profile") or {}, f"{contact_path}.profile")
        name = optional(profile, "name", f"{contact_path}.profile")
        if wa_id and name:
            names[wa_id] = name
    items: list[GatewayItem] = []
    for message_path, message in objects(value, "messages", path):
        items.append(_message(tenant, message, message_path, names))
    for status_path, status in objects(value, "statuses", path):
        items.append(_status(tenant, status, status_path))
    return items


def _message(tenant: str, message: dict[str, Any], path: str, names: dict[str, str]) -> GatewayItem:
    sender = required(message, "from", path)
    address = phone(Channel.WHATSAPP, sender, f"{path}.from")
    message_id = source_id(message, "id", path)
    occurred_at = unix_time(message.get("timestamp"), f"{path}.timestamp")

    def received(text: str | None, payload: str | None = None) -> ReceiveMessage:
        return ReceiveMessage(
            tenant=tenant,
            channel=Channel.WHATSAPP.value,
            address=address,
            message_id=message_id,
            occurred_at=occurred_at,
            text=text,
            button_payload=payload,
            profile_name=names.get(sender),
            recorded_by=RECORDED_BY,
        )

    kind = required(message, "type", path)
    if kind == "text":
        body = obj(message.get("text"), f"{path}.text")
        return received(required(body, "body", f"{path}.text", limit=MAX_TEXT))
    if kind == "button":  # a template's quick-reply button: payload and label text
        button = obj(message.get("button"), f"{path}.button")
        return received(
            optional(button, "text", f"{path}.button"),
            required(button, "payload", f"{path}.button"),
        )
    if kind == "interactive":
        interactive = obj(message.get("interactive"), f"{path}.interactive")
        reply_type = required(interactive, "type", f"{path}.interactive")
        if reply_type in ("button_reply", "list_reply"):
            where = f"{path}.interactive.{reply_type}"
            reply = obj(interactive.get(reply_type), where)
            return received(optional(reply, "title", where), required(reply, "id", where))
        return Ignored(f"interactive:{reply_type}")
    return Ignored(f"message:{kind}")


def _status(tenant: str, status: dict[str, Any], path: str) -> GatewayItem:
    wamid = source_id(status, "id", path)
    state = required(status, "status", path)
    recipient = required(status, "recipient_id", path)
    address = phone(Channel.WHATSAPP, recipient, f"{path}.recipient_id")
    occurred_at = unix_time(status.get("timestamp"), f"{path}.timestamp")
    outbound = parse_outbound_id(optional(status, "biz_opaque_callback_data", path, limit=512))
    if state == "failed":
        codes = [error.get("code") for _, error in objects(status, "errors", path)]
        code = STOPPED_MARKETING if STOPPED_MARKETING in codes else next(iter(codes), None)

        def signal(action: SignalAction, **more: Any) -> ProviderSignal:
            evidence = Evidence(
                method=CaptureMethod.PROVIDER_SIGNAL,
                recorded_by=RECORDED_BY,
                gateway=GATEWAY,
                gateway_message_id=wamid,
                gateway_status=state,
                gateway_error=str(code),
            )
            return ProviderSignal(
                tenant=tenant,
                channel=Channel.WHATSAPP.value,
                address=address,
                action=action,
                occurred_at=occurred_at,
                source=Source(kind="whatsapp_status", id=f"{wamid}:{state}"),
                evidence=evidence,
                **more,
            )

        if code == STOPPED_MARKETING:
            return signal(SignalAction.OPTED_OUT, purposes=MARKETING, unless_in_force=True)
        if code == UNDELIVERABLE and outbound and outbound.kind is OutboundKind.OPT_IN_REQUEST:
            return signal(SignalAction.UNDELIVERABLE, refers_to=outbound.ref)
        return Ignored(f"failed:{code}")
    if state in DELIVERY_STATES and outbound is not None:
        return DeliveryReport(
            tenant=tenant,
            channel=Channel.WHATSAPP.value,
            address=address,
            outbound=outbound,
            status=DeliveryStatus(state),
            gateway=GATEWAY,
            gateway_message_id=wamid,
            occurred_at=occurred_at,
        )
    return Ignored(f"status:{state}")


def _preferences(tenant: str, value: dict[str, Any], path: str) -> list[GatewayItem]:
    items: list[GatewayItem] = []
    for pref_path, preference in objects(value, "user_preferences", path):
        wa_id = required(preference, "wa_id", pref_path)
        category = required(preference, "category", pref_path)
        choice = required(preference, "value", pref_path)
        timestamp = preference.get("timestamp")
        occurred_at = unix_time(timestamp, f"{pref_path}.timestamp")
        if category != "marketing_messages" or choice not in ("stop", "resume"):
            items.append(Ignored(f"preference:{category}:{choice}"))
            continue
        items.append(
            ProviderSignal(
                tenant=tenant,
                channel=Channel.WHATSAPP.value,
                address=phone(Channel.WHATSAPP, wa_id, f"{pref_path}.wa_id"),
                action=SignalAction.OPTED_OUT if choice == "stop" else SignalAction.OPTED_IN,
                occurred_at=occurred_at,
                source=Source(
                    kind="whatsapp_user_preferences",
                    id=f"{wa_id}:{category}:{choice}:{timestamp}",
                ),
                evidence=Evidence(
                    method=CaptureMethod.PROVIDER_SIGNAL,
                    recorded_by=RECORDED_BY,
                    gateway=GATEWAY,
                    gateway_status=f"{category}:{choice}",
                ),
                purposes=MARKETING,
            )
        )
    return items
