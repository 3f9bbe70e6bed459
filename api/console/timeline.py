"""A subject's history (``GET …/history``) as rows a person reads: when, what happened,
how it was captured, what the person saw and sent, and who recorded it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Capture methods where the text is what the person sent (not what they were shown).
SENT_METHODS = frozenset({"keyword", "button"})
LABELS = {
    "opted_in": "Opted in",
    "opted_out": "Opted out",
    "opt_in_requested": "Asked for consent",
    "opt_in_accepted": "Accepted the request",
    "opt_in_rejected": "Rejected the request",
    "opt_in_request_expired": "Request expired unanswered",
    "opt_in_request_undeliverable": "Request undeliverable",
    "confirmation_sent": "Confirmation sent",
    "personal_data_erased": "Personal data erased",
}


@dataclass(frozen=True)
class TimelineRow:
    version: int
    position: int | None
    type: str
    label: str
    occurred_at: str
    recorded_at: str
    purposes: str
    method: str
    source: str
    keyword: str
    match: str
    gateway: str
    notice: str
    recorded_by: str
    request_id: str
    seen: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    hash: str = ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def timeline(events: Sequence[Mapping[str, Any]]) -> list[TimelineRow]:
    rows: list[TimelineRow] = []
    for event in events:
        evidence: Mapping[str, Any] = event.get("evidence") or {}
        source: Mapping[str, Any] = event.get("source") or {}
        disclosed: Mapping[str, str] = event.get("disclosures") or {}
        by_person = source.get("kind") == "message" or evidence.get("method") in SENT_METHODS
        seen = [disclosed["notice_text"]] if "notice_text" in disclosed else []
        sent: list[str] = []
        if "text" in disclosed:
            (sent if by_person else seen).append(disclosed["text"])
        if evidence.get("button_payload"):
            sent.append(f"[button] {evidence['button_payload']}")
        notice = evidence.get("notice") or {}
        kind = _text(event.get("type"))
        gateway = " ".join(
            _text(evidence.get(name))
            for name in ("gateway", "gateway_message_id", "gateway_status", "triggered_by")
            if evidence.get(name)
        )
        rows.append(
            TimelineRow(
                version=int(event.get("version") or 0),
                position=event.get("position"),
                type=kind,
                label=LABELS.get(kind, kind.replace("_", " ")),
                occurred_at=_text(event.get("occurred_at")),
                recorded_at=_text(event.get("recorded_at")),
                purposes="all purposes"
                if event.get("all_purposes")
                else ", ".join(event.get("purposes") or []),
                method=_text(evidence.get("method")),
                source=" ".join(_text(source.get(k)) for k in ("kind", "id") if source.get(k)),
                keyword=_text(evidence.get("keyword")),
                match=_text(evidence.get("match")),
                gateway=gateway,
                notice=f"{notice['id']} v{notice['version']}" if notice.get("id") else "",
                recorded_by=_text(evidence.get("recorded_by")),
                request_id=_text(event.get("request_id")),
                seen=seen,
                sent=sent,
                hash=_text(event.get("hash")),
            )
        )
    return rows
