"""``POST /v1/preference-links`` (admin): mint a signed, expiring link to a person's own
preference page (``/p/{token}``), to put in a message footer or a confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.console.preference_tokens import PreferenceLink, mint
from api.console.state import console_state
from api.deps import Admin
from api.errors import ApiError
from api.schemas import ErrorOut
from api.text_fields import Text
from ledger.domain.subjects import resolve_subject
from ledger.domain.times import format_time
from ledger.domain.validation import check_purposes

router = APIRouter(prefix="/v1/preference-links", tags=["preference page"])


class PreferenceLinkIn(BaseModel):
    channel: Text = Field(max_length=64, examples=["whatsapp"])
    address: Text = Field(max_length=64, examples=["+14155550100"])
    reopt_in: list[Annotated[Text, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=100,
        description="purposes the person may opt back into from the page (withdrawing is "
        "always possible)",
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=366, description="at most CONSENT_LEDGER_PREFERENCE_LINK_DAYS"
    )


class PreferenceLinkOut(BaseModel):
    path: str = Field(description="/p/<token>: prefix it with the ledger's public address")
    expires_at: str
    subject_id: str


@router.post(
    "",
    response_model=PreferenceLinkOut,
    status_code=201,
    responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    summary="Mint a signed, expiring link to one person's preference page",
)
def mint_preference_link(
    request: Request, body: PreferenceLinkIn, principal: Admin
) -> PreferenceLinkOut:
    state = console_state(request)
    if state.preference_secret is None:
        raise ApiError(
            503,
            "preference_links_off",
            "set CONSENT_LEDGER_PREFERENCE_KEY to mint preference-page links",
        )
    subject = resolve_subject(principal.tenant, body.channel, body.address)
    reopt = check_purposes(body.reopt_in, field="reopt_in")
    days = min(
        body.expires_in_days or state.settings.preference_link_days,
        state.settings.preference_link_days,
    )
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    link = PreferenceLink(
        tenant=principal.tenant,
        channel=subject.channel.value,
        address=subject.address,
        expires=expires,
        reopt_purposes=reopt,
    )
    return PreferenceLinkOut(
        path=f"/p/{mint(state.preference_secret, link)}",
        expires_at=format_time(expires),
        subject_id=str(subject.id),
    )
