"""Bodies of the tenant settings endpoints. Secrets are accepted, never returned."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.text_fields import Text
from ledger.domain.tenants.tenant_settings import TenantSettings
from ledger.domain.times import format_time
from ledger.domain.validation import MAX_SHORT, MAX_TEXT

Keyword = Annotated[Text, Field(min_length=1, max_length=64)]
# A purpose, an action or a capture method: short identifiers (the domain checks the form).
Name = Annotated[Text, Field(max_length=64)]
# A button payload id, as the gateway sends it back.
ButtonId = Annotated[Text, Field(min_length=1, max_length=MAX_SHORT)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ButtonIn(Input):
    action: Name = Field(description="accept, reject, opt_in, opt_out or help")
    purposes: list[Name] = Field(
        default_factory=list, max_length=100, description="opt_out only: what it withdraws"
    )


class KeywordsIn(Input):
    """The tenant's keyword rules; a list not given gets its default (PUT replaces them)."""

    opt_out: list[Keyword] | None = Field(default=None, max_length=100)
    opt_in: list[Keyword] | None = Field(default=None, max_length=100)
    help: list[Keyword] | None = Field(default=None, max_length=100)
    accept: list[Keyword] | None = Field(default=None, max_length=100)
    reject: list[Keyword] | None = Field(default=None, max_length=100)
    scoped_opt_out: dict[Keyword, list[Name]] | None = Field(
        default=None, description='e.g. {"STOP PROMOTIONS": ["marketing"]}'
    )
    phrase_matching: bool | None = None
    max_phrase_words: int | None = Field(default=None, ge=1, le=20)
    buttons: dict[ButtonId, Name | ButtonIn] = Field(
        default_factory=dict,
        description='button payload id -> action, e.g. {"yes-btn": "accept", '
        '"promo-stop": {"action": "opt_out", "purposes": ["marketing"]}}',
    )
    opt_in_purposes: list[Name] = Field(
        default_factory=lambda: ["marketing"],
        max_length=100,
        description="what an opt-in keyword grants a subject with no purposes on record",
    )


class TextsIn(Input):
    """Reply texts; the ones not given keep their values; an empty text sends nothing."""

    opted_out: Text | None = Field(default=None, max_length=1024)
    opted_out_purposes: Text | None = Field(
        default=None,
        max_length=1024,
        description="after an opt-out of named purposes; {purposes} names them",
    )
    opted_in: Text | None = Field(default=None, max_length=1024)
    rejected: Text | None = Field(default=None, max_length=1024)
    help: Text | None = Field(default=None, max_length=1024)


class FirstMessageTemplateIn(Input):
    id: Text = Field(max_length=MAX_SHORT)
    version: Text = Field(max_length=MAX_SHORT)
    text: Text = Field(max_length=MAX_TEXT)


class FirstMessageRequestIn(Input):
    """Ask on first message: off by default; when on, a template is required."""

    enabled: bool
    purposes: list[Name] | None = Field(
        default=None, max_length=100, description="what the request asks for (default: marketing)"
    )
    template: FirstMessageTemplateIn | None = None
    business_name: Text | None = Field(default=None, max_length=MAX_SHORT)


class CaptureMethodsIn(Input):
    methods: list[Name] = Field(
        max_length=100, description="the tenant's own capture methods (PUT replaces them)"
    )


class RequestWindowIn(Input):
    seconds: int = Field(description="how long an opt-in request stays pending (60-2592000)")


class GatewayOut(BaseModel):
    gateway: str
    settings: dict[str, str] = Field(description="the non-secret settings")
    fingerprints: dict[str, str] = Field(description="keyed fingerprints of the secrets")
    version: int = Field(description="the settings version that configured it")
    changed_at: str


class TenantSettingsOut(BaseModel):
    tenant: str
    version: int = Field(description="0: built-in defaults; classified events name theirs")
    event_id: UUID | None
    keywords: dict[str, Any]
    buttons: dict[str, dict[str, Any]]
    opt_in_purposes: list[str]
    texts: dict[str, str]
    request_window_seconds: int
    gateways: dict[str, GatewayOut]
    first_message_request: dict[str, Any] | None = Field(
        default=None, description="the request a new subject's first message gets; null: off"
    )
    capture_methods: list[str] = Field(
        default_factory=list, description="the tenant's own capture methods"
    )
    opt_out_scope: str = Field(
        default="channel",
        description="what an opt-out sent to one sender withdraws: channel or sender",
    )


class TenantHistoryOut(BaseModel):
    tenant: str
    events: list[dict[str, Any]]


def settings_out(settings: TenantSettings) -> TenantSettingsOut:
    keywords = settings.rules.to_dict()
    return TenantSettingsOut(
        tenant=settings.tenant,
        version=settings.version,
        event_id=settings.last_event_id,
        keywords=keywords,
        buttons={k: v.to_dict() for k, v in settings.buttons.items()},
        opt_in_purposes=list(settings.keyword_purposes),
        texts=settings.texts.to_dict(),
        request_window_seconds=int(settings.request_window.total_seconds()),
        gateways={
            name: GatewayOut(
                gateway=name,
                settings=dict(config.settings),
                fingerprints=dict(config.fingerprints),
                version=config.version,
                changed_at=format_time(config.changed_at),
            )
            for name, config in settings.gateways.items()
        },
        first_message_request=(
            settings.first_message.to_dict() if settings.first_message is not None else None
        ),
        capture_methods=list(settings.capture_methods),
        opt_out_scope=settings.opt_out_scope,
    )
