"""Twilio Programmable Messaging webhooks: inbound SMS and WhatsApp messages, and status
callbacks, form-encoded, signed with ``X-Twilio-Signature``.

The signature is computed exactly as twilio-python's ``RequestValidator`` does
(twilio/request_validator.py): the full URL Twilio requested, then for each POST
parameter name in sorted order each of its values in sorted order appended as
``name + value``; HMAC-SHA1 with the auth token, base64. Twilio is inconsistent about
the port, so the URL is tried both with and without its default port. The URL is the
tenant's configured ``webhook_url`` (the public URL Twilio calls, a proxy may sit in
front) plus the query string of the request.

Parameters as documented (twilio.com/docs/messaging/guides/webhook-request and
…/track-outbound-message-status): ``MessageSid``, ``From``, ``To``, ``Body``,
``ProfileName``, ``ButtonText``, ``ButtonPayload``, ``OptOutType`` (STOP, START, HELP:
present when Advanced Opt-Out handled the message and already replied), and in status
callbacks ``MessageStatus`` and ``ErrorCode``. Error 21610: the recipient replied STOP,
evidence of an opt-out already in force. Errors 30005 (unknown destination handset: the
number may no longer exist) and 30006 (a landline, or an unreachable carrier) mean the
number no longer reaches the person who consented: a ``consent_invalidated``
(``number_disconnected``, the error code as the evidence's result).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from api.gateways.fields import optional, phone, required, source_id
from api.gateways.senders import with_sender
from ledger.application.signals.intake import GatewayItem, Ignored
from ledger.domain.addresses import Channel
from ledger.domain.commands import (
    CaptureMethod,
    Evidence,
    InvalidationReason,
    ReceiveMessage,
    Source,
)
from ledger.domain.outbound.ids import OutboundKind, parse_outbound_id
from ledger.domain.signals.reports import (
    DELIVERY_STATES,
    DeliveryReport,
    DeliveryStatus,
    ProviderSignal,
    SignalAction,
)
from ledger.domain.times import utc_now
from ledger.domain.validation import MAX_TEXT

GATEWAY = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"
RECORDED_BY = "webhook:twilio"
UNSUBSCRIBED_RECIPIENT = "21610"
# "Channel could not find To address": on WhatsApp, the number is not a WhatsApp user
# (Twilio's mapping of WhatsApp's 1006, 1013 and 1021; twilio.com/docs/whatsapp/api/
# error-code-mapping).
NOT_ON_CHANNEL = "63003"
# twilio.com/docs/api/errors/30005 and /30006
NUMBER_GONE = frozenset({"30005", "30006"})
OUTBOUND_ID_PARAM = "outbound_id"  # query parameter senders add to StatusCallback


def signed_url(webhook_url: str, query: str) -> str:
    """The URL Twilio signed: the configured public URL and the request's query string."""
    if not query:
        return webhook_url
    return f"{webhook_url}{'&' if '?' in webhook_url else '?'}{query}"


def compute_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    return _signature(auth_token, url, _signed_params(params))


def _signed_params(params: Sequence[tuple[str, str]]) -> str:
    """Each name in sorted order, each of its values in sorted order: ``name + value``."""
    return "".join(name + value for name, value in sorted(params))


def _signature(auth_token: str, url: str, signed_params: str) -> str:
    data = url + signed_params
    mac = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("utf-8").strip()


def signature_valid(
    auth_token: str, url: str, params: Sequence[tuple[str, str]], signature: str | None
) -> bool:
    if not signature:
        return False
    signed_params = _signed_params(params)
    candidates = {_without_port(url), _with_port(url)}
    presented = signature.encode("utf-8")  # bytes: a non-ASCII str would raise
    return any(
        hmac.compare_digest(_signature(auth_token, candidate, signed_params).encode(), presented)
        for candidate in candidates
    )


def _without_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))


def _with_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is not None:
        return url
    port = 443 if parts.scheme == "https" else 80
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


def parse(tenant: str, params: Sequence[tuple[str, str]], query: dict[str, str]) -> GatewayItem:
    """One inbound message or one status callback, with its sender (``senders.py``)."""
    form = dict(params)
    sender = form.get("MessagingServiceSid") or form.get("To")
    return with_sender(_parse(tenant, form, query), sender)


def _parse(tenant: str, form: dict[str, str], query: dict[str, str]) -> GatewayItem:
    if "MessageStatus" in form:
        return _status(tenant, form, query)
    sender = required(form, "From", "")
    channel = Channel.WHATSAPP if sender.lower().startswith("whatsapp:") else Channel.SMS
    address = phone(channel, sender, "From")
    message_id = source_id(form, "MessageSid", "")
    body = optional(form, "Body", "", limit=MAX_TEXT)
    opt_out_type = (optional(form, "OptOutType", "") or "").upper()
    now = utc_now()
    if opt_out_type == "HELP":
        return Ignored("help_answered_by_twilio")
    if opt_out_type in ("STOP", "START"):
        # Twilio already enforces (and confirmed) it: record it whatever our keywords say.
        return ProviderSignal(
            tenant=tenant,
            channel=channel.value,
            address=address,
            action=SignalAction.OPTED_OUT if opt_out_type == "STOP" else SignalAction.OPTED_IN,
            occurred_at=now,
            source=Source(kind="message", id=message_id),
            evidence=Evidence(
                method=CaptureMethod.KEYWORD,
                text=body,
                keyword=opt_out_type,
                recorded_by=RECORDED_BY,
                gateway=GATEWAY,
                gateway_message_id=message_id,
            ),
        )
    button_payload = optional(form, "ButtonPayload", "")
    text = body or optional(form, "ButtonText", "")
    if not (text or button_payload):
        return Ignored("no_text")
    return ReceiveMessage(
        tenant=tenant,
        channel=channel.value,
        address=address,
        message_id=message_id,
        occurred_at=now,  # Twilio's request carries no time of its own
        text=text,
        button_payload=button_payload,
        profile_name=optional(form, "ProfileName", ""),
        recorded_by=RECORDED_BY,
    )


def _status(tenant: str, form: dict[str, str], query: dict[str, str]) -> GatewayItem:
    message_id = source_id(form, "MessageSid", "")
    state = required(form, "MessageStatus", "")
    recipient = required(form, "To", "")
    channel = Channel.WHATSAPP if recipient.lower().startswith("whatsapp:") else Channel.SMS
    address = phone(channel, recipient, "To")
    error = optional(form, "ErrorCode", "")
    now = utc_now()
    outbound = parse_outbound_id(query.get(OUTBOUND_ID_PARAM))
    evidence = Evidence(
        method=CaptureMethod.PROVIDER_SIGNAL,
        recorded_by=RECORDED_BY,
        gateway=GATEWAY,
        gateway_message_id=message_id,
        gateway_status=state,
        gateway_error=error,
    )
    source = Source(kind="twilio_status", id=f"{message_id}:{state}")

    def signal(action: SignalAction, **more: Any) -> ProviderSignal:
        return ProviderSignal(
            tenant=tenant,
            channel=channel.value,
            address=address,
            action=action,
            occurred_at=now,
            source=source,
            evidence=evidence,
            **more,
        )

    if error == UNSUBSCRIBED_RECIPIENT:
        return signal(SignalAction.OPTED_OUT, unless_in_force=True)
    if error in NUMBER_GONE:
        return signal(
            SignalAction.INVALIDATED,
            unless_in_force=True,
            reason=InvalidationReason.NUMBER_DISCONNECTED.value,
        )
    if (
        error == NOT_ON_CHANNEL
        and channel is Channel.WHATSAPP
        and outbound is not None
        and outbound.kind is OutboundKind.OPT_IN_REQUEST
    ):
        return signal(SignalAction.UNDELIVERABLE, refers_to=outbound.ref)
    if state in DELIVERY_STATES and outbound is not None:
        return DeliveryReport(
            tenant=tenant,
            channel=channel.value,
            address=address,
            outbound=outbound,
            status=DeliveryStatus(state),
            gateway=GATEWAY,
            gateway_message_id=message_id,
            occurred_at=now,
        )
    return Ignored(f"status:{state}:{error}")
