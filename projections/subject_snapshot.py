"""A subject's folded state as JSON, so a projection continues the fold where it stopped."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any
from uuid import UUID

import orjson

from ledger.domain.consent_status import Hold, PendingRequest, PurposeStatus, Status, SubjectState
from ledger.domain.times import format_time, parse_time


def dump_state(state: SubjectState) -> str:
    return orjson.dumps(
        {
            "version": state.version,
            "tenant": state.tenant,
            "channel": state.channel,
            "last_hash": state.last_hash,
            "entries": {p: _dump_status(s) for p, s in state.entries.items()},
            "everything": _dump_status(state.everything) if state.everything else None,
            "pending": _dump_pending(state.pending) if state.pending else None,
            "erasure": _dump_status(state.erasure) if state.erasure else None,
            "senders": {
                sender: {p: _dump_status(s) for p, s in own.items()}
                for sender, own in state.senders.items()
            },
            "invalidation": _dump_status(state.invalidation) if state.invalidation else None,
            "hold": _dump_hold(state.hold) if state.hold else None,
        }
    ).decode("utf-8")


def load_state(subject_id: UUID, text: str) -> SubjectState:
    data = orjson.loads(text)
    return SubjectState(
        id=subject_id,
        version=data["version"],
        tenant=data["tenant"],
        channel=data["channel"],
        last_hash=data["last_hash"],
        entries=MappingProxyType({p: _load_status(s) for p, s in data["entries"].items()}),
        everything=_load_status(data["everything"]) if data["everything"] else None,
        pending=_load_pending(data["pending"]) if data["pending"] else None,
        # Absent from states stored before erasures ended targeting.
        erasure=_load_status(data["erasure"]) if data.get("erasure") else None,
        # Absent from states stored before opt-outs could be scoped to a sender.
        senders=MappingProxyType(
            {
                sender: MappingProxyType({p: _load_status(s) for p, s in own.items()})
                for sender, own in (data.get("senders") or {}).items()
            }
        ),
        # Absent from states stored before invalidations.
        invalidation=_load_status(data["invalidation"]) if data.get("invalidation") else None,
        hold=_load_hold(data["hold"]) if data.get("hold") else None,
    )


def _dump_status(status: PurposeStatus) -> dict[str, Any]:
    return {
        "status": status.status.value,
        "since": format_time(status.since),
        "event_id": str(status.event_id),
        "version": status.version,
        "method": status.method,
        "keyword": status.keyword,
        "sender": status.sender,
    }


def _load_status(data: dict[str, Any]) -> PurposeStatus:
    return PurposeStatus(
        status=Status(data["status"]),
        since=parse_time(data["since"]),
        event_id=UUID(data["event_id"]),
        version=data["version"],
        method=data["method"],
        keyword=data["keyword"],
        sender=data.get("sender"),  # absent before senders were recorded
    )


def _dump_pending(pending: PendingRequest) -> dict[str, Any]:
    return {
        "request_id": str(pending.request_id),
        "event_id": str(pending.event_id),
        "purposes": list(pending.purposes),
        "requested_at": format_time(pending.requested_at),
        "expires_at": format_time(pending.expires_at),
    }


def _load_pending(data: dict[str, Any]) -> PendingRequest:
    return PendingRequest(
        request_id=UUID(data["request_id"]),
        event_id=UUID(data["event_id"]),
        purposes=tuple(data["purposes"]),
        requested_at=parse_time(data["requested_at"]),
        expires_at=parse_time(data["expires_at"]),
    )


def _dump_hold(hold: Hold) -> dict[str, Any]:
    return {
        "event_id": str(hold.event_id),
        "version": hold.version,
        "since": format_time(hold.since),
        "purposes": list(hold.purposes),
        "all_purposes": hold.all_purposes,
    }


def _load_hold(data: dict[str, Any]) -> Hold:
    return Hold(
        event_id=UUID(data["event_id"]),
        version=data["version"],
        since=parse_time(data["since"]),
        purposes=tuple(data["purposes"]),
        all_purposes=data["all_purposes"],
    )
