"""Request and response bodies: the public JSON contract (DESIGN.md §6)."""

from __future__ import annotations

from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.openapi_rules import (
    ADDRESS,
    CHANNEL,
    EVENT_TYPE,
    PURPOSE,
    SHORT,
    SOURCE_ID,
    SOURCE_KIND,
    TEXT,
)
from api.text_fields import Text
from ledger.domain.commands import CaptureMethod
from ledger.domain.contacts import MAX_CONTACT_ID
from ledger.domain.records import Recorded

MAX_BATCH = 10_000
# Positions and outbox ids are PostgreSQL bigints: a larger number names nothing.
MAX_POSITION = 2**63 - 1


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SourceIn(Input):
    kind: Text = Field(
        description="who reported it: web_form, message, import, api, a gateway…",
        json_schema_extra=SOURCE_KIND,
    )
    id: Text | None = Field(
        default=None,
        description="its id there; the same (kind, id) is recorded once per tenant",
        json_schema_extra=SOURCE_ID,
    )


class NoticeIn(Input):
    id: Text = Field(json_schema_extra=SHORT)
    version: Text = Field(json_schema_extra=SHORT)
    text: Text | None = Field(
        default=None, description="the notice or template text shown", json_schema_extra=TEXT
    )


class EvidenceIn(Input):
    method: Text = Field(
        max_length=64,
        description="how consent was captured: a built-in method or one the tenant added",
        examples=[m.value for m in CaptureMethod],
    )
    text: Text | None = Field(
        default=None, description="verbatim text the person sent or saw", json_schema_extra=TEXT
    )
    notice: NoticeIn | None = None
    business_name: Text | None = Field(default=None, json_schema_extra=SHORT)
    ip: Text | None = Field(default=None, json_schema_extra=SHORT)
    user_agent: Text | None = Field(default=None, json_schema_extra=TEXT)
    profile_name: Text | None = Field(default=None, json_schema_extra=SHORT)
    button_payload: Text | None = Field(default=None, json_schema_extra=SHORT)
    sender: Text | None = Field(
        default=None,
        description="the business sender (phone number id, number, brand)",
        json_schema_extra=SHORT,
    )


class NumberCheckIn(Input):
    data_source: Text = Field(max_length=256, examples=["fcc_rnd"], description="who said so")
    queried_at: AwareDatetime = Field(description="when it was asked")
    result: Text = Field(max_length=256, examples=["yes"], description="what it answered")


class EventIn(Input):
    type: Text = Field(examples=["opted_in"], json_schema_extra=EVENT_TYPE)
    channel: Text = Field(examples=["whatsapp"], json_schema_extra=CHANNEL)
    address: Text = Field(examples=["+14155550100"], json_schema_extra=ADDRESS)
    purposes: list[Annotated[Text, Field(json_schema_extra=PURPOSE)]] = Field(
        default_factory=list, examples=[["marketing"]]
    )
    occurred_at: AwareDatetime
    source: SourceIn
    evidence: EvidenceIn
    request_id: UUID | None = None
    contact_id: Text | None = Field(
        default=None,
        max_length=MAX_CONTACT_ID,
        description="the business's own id of the person (several numbers, one contact); "
        "personal data: committed and sealed, never stored in clear in a document",
        examples=["cust-10042"],
    )
    reason: Text | None = Field(
        default=None,
        max_length=64,
        description="consent_invalidated only: number_reassigned or number_disconnected",
    )
    number_check: NumberCheckIn | None = Field(
        default=None, description="consent_invalidated only: the evidence of the invalidation"
    )


class EventsIn(Input):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class RecordedOut(BaseModel):
    subject_id: UUID
    event_id: UUID
    type: str
    version: int
    position: int
    duplicate: bool

    @classmethod
    def of(cls, answer: Recorded, **more: Any) -> Self:
        """The answer for an event the ledger holds (``more``: a subclass's own fields)."""
        return cls(
            subject_id=answer.subject_id,
            event_id=answer.event_id,
            type=answer.type,
            version=answer.version,
            position=answer.position,
            duplicate=answer.duplicate,
            **more,
        )


class EventsOut(BaseModel):
    results: list[RecordedOut]


class InboundIn(Input):
    channel: Text = Field(json_schema_extra=CHANNEL)
    from_: Text = Field(alias="from", examples=["+14155550100"], json_schema_extra=ADDRESS)
    text: Text | None = Field(default=None, json_schema_extra=TEXT)
    button_payload: Text | None = Field(default=None, json_schema_extra=SHORT)
    message_id: Text = Field(json_schema_extra=SOURCE_ID)
    occurred_at: AwareDatetime | None = None
    profile_name: Text | None = Field(default=None, json_schema_extra=SHORT)
    sender: Text | None = Field(
        default=None,
        description="the business sender the message went to (number, app)",
        json_schema_extra=SHORT,
    )


class InboundOut(BaseModel):
    action: str = Field(
        description="opted_out, opted_in, accepted, rejected, help, none, or "
        "opt_in_requested (a first message asked for consent)"
    )
    subject_id: UUID
    event_id: UUID | None = None
    position: int | None = None
    duplicate: bool = False
    keyword: str | None = None
    match: str | None = None


class TemplateIn(Input):
    id: Text = Field(json_schema_extra=SHORT)
    version: Text = Field(json_schema_extra=SHORT)
    text: Text = Field(json_schema_extra=TEXT)


class OptInRequestIn(Input):
    channel: Text = Field(json_schema_extra=CHANNEL)
    address: Text = Field(json_schema_extra=ADDRESS)
    purposes: list[Annotated[Text, Field(json_schema_extra=PURPOSE)]] = Field(min_length=1)
    template: TemplateIn
    business_name: Text = Field(json_schema_extra=SHORT)
    source: SourceIn | None = None
    method: Text | None = Field(
        default=None,
        max_length=64,
        description="how the request was made, e.g. agent; default: the source kind when "
        "it is a capture method, else api",
    )
    contact_id: Text | None = Field(
        default=None,
        max_length=MAX_CONTACT_ID,
        description="the business's own id of the person (several numbers, one contact); "
        "personal data: committed and sealed, never stored in clear in a document",
        examples=["cust-10042"],
    )


class OptInRequestOut(BaseModel):
    request_id: UUID
    subject_id: UUID
    event_id: UUID
    position: int
    expires_at: str | None = None
    duplicate: bool = False
    outbound_id: str | None = Field(
        default=None, description="the id of the request message to send (echoed back by gateways)"
    )


class PurposeOut(BaseModel):
    status: str
    since: str
    event_id: UUID
    method: str | None = None
    keyword: str | None = None
    lapses_at: str | None = Field(
        default=None, description="when an opted-in grant lapses under the tenant's policy"
    )


class PendingOut(BaseModel):
    request_id: UUID
    purposes: list[str]
    requested_at: str
    expires_at: str


class SubjectOut(BaseModel):
    subject_id: UUID
    channel: str
    address: str
    purposes: dict[str, PurposeOut] = Field(
        description='status per purpose; "*" is the channel-wide status after a plain STOP'
    )
    pending_request: PendingOut | None = None
    position: int = Field(description="ledger position of the last event applied to this subject")
    sender: str | None = Field(
        default=None, description="the sender asked about (?sender=): purposes are its view"
    )
    senders: dict[str, dict[str, PurposeOut]] = Field(
        default_factory=dict,
        description="opt-outs scoped to one sender that stand, by sender and purpose",
    )


class HistoryOut(BaseModel):
    subject_id: UUID
    channel: str
    address: str
    events: list[dict[str, Any]]


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail
    retry_after: str | None = None
