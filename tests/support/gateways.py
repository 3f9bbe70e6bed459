"""Gateway payloads built from the gateways' documented shapes, signed as they sign them.

Sources (field names are copied from these, none invented):
- Meta WhatsApp Cloud API webhooks reference,
  developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/:
  messages/text, messages/interactive (button_reply, list_reply), messages/button
  (template quick reply: payload, text), messages/status (statuses[].errors,
  biz_opaque_callback_data, recipient_id), user_preferences (wa_id, detail, category
  "marketing_messages", value "stop"|"resume", timestamp as an integer). Timestamps of
  messages and statuses are strings of Unix seconds.
- Meta "Validating payloads": X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256 of the
  raw body keyed with the app secret.
- Twilio, twilio.com/docs/messaging/guides/webhook-request (MessageSid, AccountSid,
  From, To, Body, NumMedia, ProfileName, WaId, ButtonText, ButtonPayload, OptOutType) and
  …/guides/track-outbound-message-status (MessageStatus, ErrorCode); the signature as
  twilio-python's RequestValidator computes it.
- Gupshup, docs.gupshup.io/docs/user-event (user-event opted-in/opted-out) and
  /docs/text, /docs/interactive (inbound message text, button_reply, list_reply).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from api.gateways.twilio import compute_signature

WABA_ID = "102290129340398"  # Meta's example WhatsApp Business Account id
PHONE_NUMBER_ID = "106540352242922"  # Meta's example business phone number id
DISPLAY_NUMBER = "15550783881"


def unix(seconds_ago: float = 0) -> int:
    return int(time.time() - seconds_ago)


# --------------------------------------------------------------------- WhatsApp
def wa_payload(*changes: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """``changes`` spread over ``entries`` entries (one payload may carry several)."""
    buckets: list[list[dict[str, Any]]] = [[] for _ in range(entries)]
    for index, change in enumerate(changes):
        buckets[index % entries].append(change)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": bucket} for bucket in buckets if bucket],
    }


def wa_messages(
    *messages: dict[str, Any],
    statuses: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    profile: tuple[str, str] | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_number_id},
    }
    if profile is not None:
        value["contacts"] = [{"profile": {"name": profile[1]}, "wa_id": profile[0]}]
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {"value": value, "field": "messages"}


def wa_text(wamid: str, sender: str, body: str, timestamp: int | None = None) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid,
        "timestamp": str(timestamp or unix()),
        "type": "text",
        "text": {"body": body},
    }


def wa_interactive(
    wamid: str, sender: str, kind: str, reply_id: str, title: str, timestamp: int | None = None
) -> dict[str, Any]:
    reply: dict[str, Any] = {"id": reply_id, "title": title}
    if kind == "list_reply":
        reply["description"] = "row description"
    return {
        "context": {"from": DISPLAY_NUMBER, "id": "wamid.CONTEXT"},
        "from": sender,
        "id": wamid,
        "timestamp": str(timestamp or unix()),
        "type": "interactive",
        "interactive": {"type": kind, kind: reply},
    }


def wa_button(
    wamid: str, sender: str, payload: str, text: str, timestamp: int | None = None
) -> dict[str, Any]:
    return {
        "context": {"from": DISPLAY_NUMBER, "id": "wamid.CONTEXT"},
        "from": sender,
        "id": wamid,
        "timestamp": str(timestamp or unix()),
        "type": "button",
        "button": {"payload": payload, "text": text},
    }


def wa_status(
    wamid: str,
    status: str,
    recipient: str,
    *,
    timestamp: int | None = None,
    error_code: int | None = None,
    callback: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp or unix()),
        "recipient_id": recipient,
    }
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    if error_code is not None:
        item["errors"] = [
            {
                "code": error_code,
                "title": "error title",
                "message": "error message",
                "error_data": {"details": "error details"},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return item


def wa_preferences(
    wa_id: str, value: str, timestamp: int | None = None, phone_number_id: str = PHONE_NUMBER_ID
) -> dict[str, Any]:
    detail = f"User requested to {value} marketing messages"
    return {
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": DISPLAY_NUMBER,
                "phone_number_id": phone_number_id,
            },
            "contacts": [{"wa_id": wa_id}],
            "user_preferences": [
                {
                    "wa_id": wa_id,
                    "detail": detail,
                    "category": "marketing_messages",
                    "value": value,
                    "timestamp": timestamp or unix(),
                }
            ],
        },
        "field": "user_preferences",
    }


def wa_sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def wa_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


# ----------------------------------------------------------------------- Twilio
ACCOUNT_SID = "AC" + "1" * 32
TWILIO_NUMBER = "+15017122661"


def twilio_inbound(
    sid: str,
    sender: str,
    body: str,
    *,
    opt_out_type: str | None = None,
    button: tuple[str, str] | None = None,
    profile_name: str | None = None,
) -> list[tuple[str, str]]:
    whatsapp = sender.startswith("whatsapp:")
    params = [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("SmsMessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", sender),
        ("To", f"whatsapp:{TWILIO_NUMBER}" if whatsapp else TWILIO_NUMBER),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ]
    if whatsapp:
        params += [("WaId", sender.removeprefix("whatsapp:+")), ("ProfileName", profile_name or "")]
    if opt_out_type is not None:
        params.append(("OptOutType", opt_out_type))
    if button is not None:
        params += [("ButtonText", button[0]), ("ButtonPayload", button[1])]
    return params


def twilio_status(
    sid: str, status: str, to: str, *, error_code: str | None = None
) -> list[tuple[str, str]]:
    params = [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", TWILIO_NUMBER),
        ("To", to),
        ("MessageStatus", status),
        ("SmsStatus", status),
        ("ApiVersion", "2010-04-01"),
    ]
    if error_code is not None:
        params.append(("ErrorCode", error_code))
    return params


def twilio_sign(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    # compute_signature is checked against twilio-python's own test vectors
    # (tests/unit/test_gateway_signatures.py).
    return compute_signature(auth_token, url, params)


# ---------------------------------------------------------------------- Gupshup
def gupshup_user_event(app: str, phone: str, kind: str, timestamp_ms: int) -> dict[str, Any]:
    return {
        "app": app,
        "timestamp": timestamp_ms,
        "version": 2,
        "type": "user-event",
        "payload": {"phone": phone, "type": kind},
    }


def gupshup_message(
    app: str, message_id: str, phone: str, kind: str, content: dict[str, Any], timestamp_ms: int
) -> dict[str, Any]:
    return {
        "app": app,
        "timestamp": timestamp_ms,
        "version": 2,
        "type": "message",
        "payload": {
            "id": message_id,
            "source": phone,
            "type": kind,
            "payload": content,
            "sender": {
                "phone": phone,
                "name": "Andy",
                "country_code": phone[:2],
                "dial_code": phone[2:],
            },
        },
    }
