"""The hash chain: the one way an event is appended to a subject's or a tenant's chain.

Each event stores ``prev_hash`` (the hash of the chain's previous event, 64 zeros for
the first) and its own ``hash``, the SHA-256 of the RFC 8785 canonical JSON of its
document (``LedgerEvent.document()``). ``link`` computes both from the chain's head;
every writer (consent events, erasures, tenant settings) appends through it.

A consent event holds no personal value in clear: ``link_consent`` turns a decided
``Draft`` into the event, with a salted commitment for each personal value inside the
hashed document and the values with their salts encrypted under the subject's data key
beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import orjson

from ledger.crypto.canonical import canonical_json, sha256_hex
from ledger.crypto.commitments import SALT_BYTES, commit
from ledger.crypto.encryption import NONCE_BYTES, encrypt_json
from ledger.domain.commands import Evidence, Source
from ledger.domain.consent_status import SubjectState
from ledger.domain.drafts import Draft
from ledger.events import ConsentEvent, LedgerEvent, document_of

E = TypeVar("E", bound=LedgerEvent)
_ID_BYTES = 16


@dataclass(frozen=True)
class ChainHead:
    """Where a chain ends: the next event gets ``version + 1`` and ``prev_hash = last_hash``."""

    id: UUID
    version: int
    last_hash: str
    tenant: str
    channel: str

    @classmethod
    def of(cls, state: SubjectState) -> ChainHead:
        return cls(state.id, state.version, state.last_hash, state.tenant, state.channel)


def document_hash(document: dict[str, Any], *, ascii_keys: bool = False) -> str:
    """SHA-256 of the canonical (RFC 8785) JSON of an event document."""
    return sha256_hex(canonical_json(document, ascii_keys=ascii_keys))


def event_hash(event: LedgerEvent) -> str:
    """The hash ``event`` should carry, recomputed from its contents."""
    return document_hash(event.document(), ascii_keys=type(event).fixed_keys)


def link(
    cls: type[E],
    head: ChainHead,
    *,
    recorded_at: datetime,
    event_id: UUID | None = None,
    **values: Any,
) -> E:
    """The next event of the chain at ``head``: its version, ``prev_hash`` and ``hash``."""
    fields: dict[str, Any] = {
        "originator_id": head.id,
        "originator_version": head.version + 1,
        "timestamp": recorded_at,
        "event_id": event_id or uuid4(),
        "tenant": head.tenant,
        "channel": head.channel,
        "prev_hash": head.last_hash,
        **values,
    }
    document = document_of(cls, fields)
    return cls(**fields, hash=document_hash(document, ascii_keys=cls.fixed_keys))


def source_document(source: Source) -> dict[str, str]:
    doc = {"kind": source.kind}
    if source.id is not None:
        doc["id"] = source.id
    return doc


def evidence_document(evidence: Evidence) -> dict[str, Any]:
    """The non-personal evidence, as hashed. Personal fields appear as commitments only."""
    doc: dict[str, Any] = {"method": str(evidence.method)}
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
        "triggered_by": evidence.triggered_by,
        "sender": evidence.sender,
        "opt_out_scope": evidence.opt_out_scope,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    return doc


def personal_values(address: str, evidence: Evidence) -> list[tuple[str, str]]:
    """(field, value) of every personal value the event commits to, in a fixed order."""
    values = (
        ("address", address),
        ("text", evidence.text),
        ("notice_text", evidence.notice.text if evidence.notice else None),
        ("ip", evidence.ip),
        ("user_agent", evidence.user_agent),
        ("profile_name", evidence.profile_name),
        ("contact_id", evidence.contact_id),
    )
    return [(name, value) for name, value in values if value is not None]


def link_consent(
    state: SubjectState,
    draft: Draft,
    *,
    address: str,
    data_key: bytes,
    recorded_at: datetime,
) -> ConsentEvent:
    """The consent event ``draft`` becomes as the next link of the subject's chain."""
    personal = personal_values(address, draft.evidence)
    # One read of the system's randomness per event: its id, the nonce, a salt per value.
    entropy = os.urandom(_ID_BYTES + NONCE_BYTES + SALT_BYTES * len(personal))
    event_id = UUID(bytes=entropy[:_ID_BYTES], version=4)
    nonce = entropy[_ID_BYTES : _ID_BYTES + NONCE_BYTES]
    salts = entropy[_ID_BYTES + NONCE_BYTES :]
    commitments: dict[str, str] = {}
    sealed: list[dict[str, str]] = []  # the disclosures, as ``encrypt`` writes them
    for i, (name, value) in enumerate(personal):
        salt = salts[i * SALT_BYTES : (i + 1) * SALT_BYTES]
        commitments[name] = commit(salt, value)
        sealed.append({"field": name, "salt": salt.hex(), "value": value})
    values: dict[str, Any] = {
        "occurred_at": draft.occurred_at,
        "purposes": list(draft.purposes),
        "all_purposes": draft.all_purposes,
        "request_id": draft.request_id,
        "source": source_document(draft.source),
        "evidence": evidence_document(draft.evidence),
        "commitments": commitments,
    }
    if draft.expires_at is not None:
        values["expires_at"] = draft.expires_at
    if draft.own_fields:
        values.update(draft.own_fields)
    # ``personal_data`` lies outside the hashed document, like ``hash`` itself.
    return link(
        draft.cls,
        ChainHead.of(state),
        recorded_at=recorded_at,
        event_id=event_id,
        personal_data=encrypt_json(data_key, event_id, orjson.dumps(sealed), nonce),
        **values,
    )
