"""What the person's preference page shows: each purpose with its status, when and how
it was given or withdrawn, in the business's own words (the notice or text the person
saw when they agreed), and what they may do about it. Read from the ``consent_status``
read model (status) and the ledger's history (the words), like the JSON routes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.console.preference_tokens import PreferenceLink
from api.services import Services
from ledger.domain.subjects import resolve_subject
from ledger.domain.times import format_time

ALL = "*"


@dataclass(frozen=True)
class PurposeCard:
    purpose: str
    name: str  # as the person reads it
    status: str
    since: str
    method: str
    words: str  # what the person saw or sent when this status began, if recorded
    can_withdraw: bool
    can_opt_in: bool


@dataclass(frozen=True)
class PreferenceView:
    business: str
    channel: str
    address: str
    cards: list[PurposeCard]

    @property
    def any_given(self) -> bool:
        return any(card.can_withdraw for card in self.cards)


def _words(event: Mapping[str, Any] | None) -> str:
    if event is None:
        return ""
    disclosed: Mapping[str, str] = event.get("disclosures") or {}
    return disclosed.get("notice_text") or disclosed.get("text") or ""


def preference_view(services: Services, link: PreferenceLink) -> PreferenceView:
    subject = resolve_subject(link.tenant, link.channel, link.address)
    projected = services.consent_status.subject(subject.id)
    history = services.ledger.history(link.tenant, link.channel, link.address)
    events = {
        str(e.document.get("event_id")): {**e.document, "disclosures": e.disclosures}
        for e in history.entries
    }
    business = next(
        (
            str((e.get("evidence") or {}).get("business_name"))
            for e in reversed(list(events.values()))
            if (e.get("evidence") or {}).get("business_name")
        ),
        link.tenant,
    )
    cards: list[PurposeCard] = []
    seen: set[str] = set()
    for row in projected.rows if projected is not None else []:
        seen.add(row.purpose)
        event = events.get(str(row.event_id))
        opted_in = row.status == "opted_in"
        cards.append(
            PurposeCard(
                purpose=row.purpose,
                name="All messages" if row.purpose == ALL else row.purpose.replace("_", " "),
                status=row.status,
                since=format_time(row.since),
                method=row.method or "",
                words=_words(event),
                can_withdraw=opted_in or row.status == "pending",
                can_opt_in=not opted_in and row.purpose in link.reopt_purposes,
            )
        )
    for purpose in link.reopt_purposes:  # offered by the business, never given yet
        if purpose not in seen:
            cards.append(
                PurposeCard(purpose, purpose.replace("_", " "), "none", "", "", "", False, True)
            )
    return PreferenceView(business, subject.channel.value, subject.address, cards)
