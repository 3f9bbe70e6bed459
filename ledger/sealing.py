"""Turning a decided event into a sealed, hash-chained ``ConsentEvent``.

The clear personal values (address, the text the person sent or saw, the notice text,
IP, user agent, profile name) become salted commitments inside the hashed document;
the values and salts are sealed under the subject's data key beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from ledger.canonical import sha256_hex
from ledger.commands import Evidence, Source
from ledger.commitments import Disclosure, disclose
from ledger.consent_status import SubjectState
from ledger.events import ConsentEvent, document_hash, document_of
from ledger.personal_data import seal


@dataclass(frozen=True)
class Draft:
    """An event decided but not yet sealed into the subject's chain."""

    cls: type[ConsentEvent]
    occurred_at: datetime
    source: Source
    evidence: Evidence
    purposes: tuple[str, ...] = ()
    all_purposes: bool = False
    request_id: UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def source_document(source: Source) -> dict[str, str]:
    doc = {"kind": source.kind}
    if source.id is not None:
        doc["id"] = source.id
    return doc


def evidence_document(evidence: Evidence) -> dict[str, Any]:
    """The non-personal evidence, as hashed. Personal fields appear as commitments only."""
    doc: dict[str, Any] = {"method": evidence.method.value}
    if evidence.notice is not None:
        notice: dict[str, Any] = {"id": evidence.notice.id, "version": evidence.notice.version}
        if evidence.notice.text is not None:
            notice["content_hash"] = sha256_hex(evidence.notice.text.encode("utf-8"))
        doc["notice"] = notice
    optional = {
        "business_name": evidence.business_name,
        "keyword": evidence.keyword,
        "match": evidence.match,
        "button_payload": evidence.button_payload,
        "recorded_by": evidence.recorded_by,
        "rules_version": evidence.rules_version,
        "gateway": evidence.gateway,
        "gateway_message_id": evidence.gateway_message_id,
        "gateway_status": evidence.gateway_status,
        "gateway_error": evidence.gateway_error,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    return doc


def personal_values(address: str, evidence: Evidence) -> list[Disclosure]:
    values = {
        "address": address,
        "text": evidence.text,
        "notice_text": evidence.notice.text if evidence.notice else None,
        "ip": evidence.ip,
        "user_agent": evidence.user_agent,
        "profile_name": evidence.profile_name,
    }
    return [disclose(name, value) for name, value in values.items() if value is not None]


def seal_event(
    state: SubjectState,
    draft: Draft,
    *,
    address: str,
    data_key: bytes,
    recorded_at: datetime,
) -> ConsentEvent:
    event_id = uuid4()
    disclosures = personal_values(address, draft.evidence)
    fields: dict[str, Any] = {
        "originator_id": state.id,
        "originator_version": state.version + 1,
        "timestamp": recorded_at,
        "event_id": event_id,
        "tenant": state.tenant,
        "channel": state.channel,
        "prev_hash": state.last_hash,
        "occurred_at": draft.occurred_at,
        "purposes": list(draft.purposes),
        "all_purposes": draft.all_purposes,
        "request_id": draft.request_id,
        "source": source_document(draft.source),
        "evidence": evidence_document(draft.evidence),
        "commitments": {d.field: d.commitment for d in disclosures},
        **draft.extra,
    }
    return draft.cls(
        **fields,
        hash=document_hash(document_of(draft.cls, fields)),
        personal_data=seal(data_key, event_id, disclosures),
    )
