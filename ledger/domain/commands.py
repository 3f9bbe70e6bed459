"""Commands: what callers ask the ledger to record, as plain immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class CaptureMethod(StrEnum):
    """How consent (or a request for it) was captured: the routes the messaging vendors'
    opt-in flows name. A tenant may add its own names (``TenantPolicy.capture_methods``);
    stored events keep whichever name was valid when they were recorded."""

    KEYWORD = "keyword"  # a keyword the person sent (START, STOP…)
    BUTTON = "button"  # a bot's quick-reply or list button
    WEB_FORM = "web_form"
    WEBSITE = "website"  # a checkbox or widget on the business's website
    WEBVIEW = "webview"  # a form inside a messaging app's webview
    REGISTRATION_FORM = "registration_form"  # sign-up or account registration
    PREFERENCE_PAGE = "preference_page"  # the person's own preference centre
    QR_CODE = "qr_code"
    MISSED_CALL = "missed_call"  # the person called a number and hung up
    IVR = "ivr"
    SMS_LINK = "sms_link"  # a link sent by SMS
    EMAIL_LINK = "email_link"  # a link sent by email
    PAPER_FORM = "paper_form"
    POS = "pos"  # entered at a point of sale
    IN_APP_PROMPT = "in_app_prompt"
    SOCIAL_LEAD_AD = "social_lead_ad"  # a social-media lead ad's form
    AGENT = "agent"  # an agent recorded it (call centre, live chat, store staff)
    FIRST_MESSAGE = "first_message"  # a request the ledger sent on a first message
    IMPORT = "import"
    API = "api"
    PROVIDER_SIGNAL = "provider_signal"  # the gateway reported it (WhatsApp, Twilio…)


@dataclass(frozen=True)
class Source:
    """Who reported the event, and its id there (gateway message id, form submission id)."""

    kind: str
    id: str | None = None


@dataclass(frozen=True)
class Notice:
    """The notice or template the person saw: id, version and (optionally) its text."""

    id: str
    version: str
    text: str | None = None


@dataclass(frozen=True)
class Evidence:
    method: str  # a CaptureMethod, or one of the tenant's own capture methods
    text: str | None = None  # verbatim text the person sent or saw (personal)
    notice: Notice | None = None
    business_name: str | None = None
    ip: str | None = None  # personal
    user_agent: str | None = None  # personal
    profile_name: str | None = None  # personal
    keyword: str | None = None
    match: str | None = None
    button_payload: str | None = None
    recorded_by: str | None = None  # API key id
    rules_version: int | None = None  # the tenant settings version that classified it
    gateway: str | None = None  # whatsapp, twilio, gupshup: who reported it
    gateway_message_id: str | None = None  # e.g. the wamid of a status
    gateway_status: str | None = None  # sent, delivered, read, failed
    gateway_error: str | None = None  # the gateway's error code (131050, 21610…)
    # The gateway message id of the inbound message that made the ledger record this
    # event (a first message that asked for consent).
    triggered_by: str | None = None
    # The business's own id of the person (personal: committed and sealed, never in
    # clear in a document; ledger/domain/contacts.py).
    contact_id: str | None = None
    # The business sender the person wrote to or heard from, where the gateway says:
    # a WhatsApp phone number id, an SMS number or Messaging Service, a Gupshup app.
    sender: str | None = None
    # "sender" on an opt-out that withdraws consent from that sender only (the tenant's
    # opt-out scope setting when it was recorded); absent: the whole channel.
    opt_out_scope: str | None = None


class InvalidationReason(StrEnum):
    """Why a consent stopped speaking for whoever holds the address now."""

    NUMBER_REASSIGNED = "number_reassigned"  # e.g. the FCC Reassigned Numbers Database
    NUMBER_DISCONNECTED = "number_disconnected"  # no longer in service, or not a mobile


@dataclass(frozen=True)
class NumberCheck:
    """The evidence of an invalidation: who said so, when they were asked, what they said."""

    data_source: str  # e.g. fcc_rnd, a carrier lookup, twilio
    queried_at: datetime
    result: str  # the source's own answer (``yes``, an error code…)


@dataclass(frozen=True)
class RecordConsent:
    """Record one consent event reported by a source (``POST /v1/events``, imports)."""

    tenant: str
    channel: str
    address: str
    type: str
    occurred_at: datetime
    source: Source
    evidence: Evidence
    purposes: tuple[str, ...] = ()
    request_id: UUID | None = None
    contact_id: str | None = None  # the business's own id of the person (several numbers)
    # ``consent_invalidated`` only: why, and the check that said so.
    reason: str | None = None
    number_check: NumberCheck | None = None


@dataclass(frozen=True)
class ReceiveMessage:
    """One inbound message from the person: text and/or a button payload."""

    tenant: str
    channel: str
    address: str
    message_id: str
    occurred_at: datetime
    text: str | None = None
    button_payload: str | None = None
    profile_name: str | None = None
    source_kind: str = "message"
    recorded_by: str | None = None
    # False when the gateway already answered the person (Twilio's Advanced Opt-Out):
    # no confirmation or help reply is queued.
    send_replies: bool = True
    # The business sender the message went to (Evidence.sender).
    sender: str | None = None


@dataclass(frozen=True)
class RequestOptIn:
    """Ask the person for consent to the purposes, with the template they will see."""

    tenant: str
    channel: str
    address: str
    purposes: tuple[str, ...]
    template: Notice
    business_name: str
    source: Source = Source(kind="api")
    occurred_at: datetime | None = None
    recorded_by: str | None = None
    # How the request was made: ``agent`` for an agent's, ``api`` by default.
    method: str = CaptureMethod.API.value
    contact_id: str | None = None  # the business's own id of the person (several numbers)
