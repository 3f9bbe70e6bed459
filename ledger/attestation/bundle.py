"""Building a subject's attestation bundle from the ledger and the attestation log.

The bundle holds the subject, every event in version order (the event object, exactly
the log's leaf, plus ``leaf_index``, ``leaf_hash`` and ``inclusion_proof`` against the
latest signed checkpoint), the disclosures that open the personal-data commitments, the
signed checkpoint and its key id. It is read straight from the ledger, so an event that
was altered or removed in the database behind the ledger's back shows up as it is now;
the bundle's own ``verification`` names the first event that no longer verifies, and so
does ``consent-ledger verify`` offline.

``as_of`` cuts the history where the ledger's own clock (``recorded_at``) passes that
moment: what the ledger knew then, and the consent it showed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import TopicError

from ledger.application.core import LedgerCore
from ledger.attestation.leaves import event_object
from ledger.attestation.proofs import inclusion_steps, keys_of, proof_from
from ledger.attestation.signing_keys import public_key_from_raw
from ledger.attestation.verification import verify_bundle
from ledger.crypto.commitments import Disclosure
from ledger.crypto.encryption import readable_disclosures
from ledger.crypto.signed_note import key_id
from ledger.domain.consent_status import SubjectState, apply
from ledger.domain.subjects import SubjectRef, resolve_subject
from ledger.domain.times import format_time
from ledger.events import LedgerEvent
from ledger.persistence.merkle_store import Leaf, MerkleStore, StoredCheckpoint

FORMAT = "consent-ledger-attestation/1"


@dataclass
class _Slot:
    """One version of the subject: its event as stored now, and its leaf as sealed."""

    version: int
    event: LedgerEvent | None = None
    unreadable: str | None = None
    leaf: Leaf | None = None


class ProofCache:
    """Inclusion proofs by (subject, checkpoint size): a proof of a leaf against a tree
    size never changes (the log only grows), so a subject's proofs are computed once per
    checkpoint. Holds at most ``max_subjects`` subjects' proofs, least recently used out."""

    def __init__(self, max_subjects: int = 2_000) -> None:
        self.max_subjects = max_subjects
        self._proofs: OrderedDict[tuple[UUID, int], dict[int, list[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, subject_id: UUID, size: int) -> dict[int, list[str]]:
        with self._lock:
            found = self._proofs.get((subject_id, size))
            if found is None:
                return {}
            self._proofs.move_to_end((subject_id, size))
            return found

    def keep(self, subject_id: UUID, size: int, proofs: dict[int, list[str]]) -> None:
        with self._lock:
            self._proofs[(subject_id, size)] = proofs
            while len(self._proofs) > self.max_subjects:
                self._proofs.popitem(last=False)


def build_bundle(
    ledger: LedgerCore,
    store: MerkleStore,
    tenant: str,
    channel: str,
    address: str,
    *,
    as_of: datetime | None = None,
    proofs: ProofCache | None = None,
) -> dict[str, Any]:
    subject = resolve_subject(tenant, channel, address)
    slots = _slots(ledger, store, subject.id, as_of)
    key = ledger.store.data_keys([subject.id]).get(subject.id)
    disclosures = [
        (slot.event, d) for slot in slots if slot.event for d in _disclosures(slot.event, key)
    ]
    checkpoint = store.latest_checkpoint()
    entries = _entries(store, subject.id, slots, checkpoint, proofs or ProofCache(0))
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "subject": {
            "subject_id": str(subject.id),
            "tenant": subject.tenant,
            "channel": subject.channel.value,
            "address": next((d.value for _, d in disclosures if d.field == "address"), None),
        },
        "generated_at": format_time(ledger.clock()),
        "as_of": format_time(as_of) if as_of else None,
        "consent": _consent(subject, [slot.event for slot in slots if slot.event]),
        "events": entries,
        "disclosures": [
            {"event_id": str(e.event_id), "field": d.field, "salt": d.salt, "value": d.value}
            for e, d in disclosures
        ],
        "checkpoint": _checkpoint(checkpoint),
        "public_key_id": _key_id(checkpoint),
    }
    bundle["verification"] = _verification(bundle, checkpoint)
    return bundle


def _slots(
    ledger: LedgerCore, store: MerkleStore, subject_id: UUID, as_of: datetime | None
) -> list[_Slot]:
    slots: dict[int, _Slot] = {}
    for item in ledger.store.select_positioned(subject_id):
        version = item.stored.originator_version
        slot = slots.setdefault(version, _Slot(version))
        try:
            slot.event = ledger.ledger_event(item.stored)
        except (ValueError, TypeError, KeyError, TopicError) as error:
            slot.unreadable = f"{type(error).__name__}: {error}"
    for leaf in store.leaves_of(subject_id):
        slots.setdefault(leaf.version, _Slot(leaf.version)).leaf = leaf
    ordered = [slots[v] for v in sorted(slots)]
    if as_of is None:
        return ordered
    known: list[_Slot] = []
    for slot in ordered:
        if slot.event is not None and slot.event.timestamp > as_of:
            break
        known.append(slot)
    # A removed event after the cut is not part of what the ledger knew then.
    while known and known[-1].event is None and known[-1].unreadable is None:
        known.pop()
    return known


def _entries(
    store: MerkleStore,
    subject_id: UUID,
    slots: list[_Slot],
    checkpoint: StoredCheckpoint | None,
    cache: ProofCache,
) -> list[dict[str, Any]]:
    size = checkpoint.tree_size if checkpoint else 0
    known = cache.get(subject_id, size)
    covered = [s for s in slots if s.leaf is not None and s.leaf.leaf_index < size]
    missing = {
        slot.leaf.leaf_index: inclusion_steps(slot.leaf.leaf_index, size)
        for slot in covered
        if slot.leaf is not None and slot.leaf.leaf_index not in known
    }
    if missing:
        nodes = store.nodes(keys_of(s for steps in missing.values() for s in steps))
        computed = {
            index: [step.hex() for step in proof_from(steps, nodes.__getitem__)]
            for index, steps in missing.items()
        }
        known = {**known, **computed}
        cache.keep(subject_id, size, known)
    entries: list[dict[str, Any]] = []
    for slot in slots:
        if slot.event is not None:
            entry = event_object(slot.event)
        else:
            entry = {"version": slot.version, "subject_id": str(subject_id)}
            if slot.unreadable is not None:
                entry["unreadable"] = slot.unreadable
            else:
                entry["missing"] = True
        leaf = slot.leaf
        entry["leaf_index"] = leaf.leaf_index if leaf else None
        entry["leaf_hash"] = leaf.leaf_hash.hex() if leaf else None
        entry["inclusion_proof"] = (
            known.get(leaf.leaf_index) if leaf is not None and leaf.leaf_index < size else None
        )
        entries.append(entry)
    return entries


def _disclosures(event: LedgerEvent, key: bytes | None) -> list[Disclosure]:
    return readable_disclosures(event, key) or []


def _consent(subject: SubjectRef, events: list[LedgerEvent]) -> dict[str, Any]:
    state = SubjectState(id=subject.id, tenant=subject.tenant, channel=subject.channel.value)
    for event in events:
        state = apply(state, event)
    return {
        "purposes": {
            purpose: {
                "status": status.status.value,
                "since": format_time(status.since),
                "event_id": str(status.event_id),
                "version": status.version,
            }
            for purpose, status in state.statuses().items()
        },
        "pending_request": str(state.pending.request_id) if state.pending else None,
    }


def _checkpoint(checkpoint: StoredCheckpoint | None) -> dict[str, Any] | None:
    if checkpoint is None:
        return None
    return {
        "note": checkpoint.note,
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "time": format_time(checkpoint.time),
        "key_name": checkpoint.origin,
        "key_id": _key_id(checkpoint),
    }


def _key_id(checkpoint: StoredCheckpoint | None) -> str | None:
    if checkpoint is None:
        return None
    return key_id(checkpoint.origin, public_key_from_raw(checkpoint.public_key)).hex()


def _verification(bundle: dict[str, Any], checkpoint: StoredCheckpoint | None) -> dict[str, Any]:
    """The ledger's own check of the bundle, with the key that signed its checkpoint."""
    if checkpoint is None:
        return {
            "verified": False,
            "summary": "FAILED: no checkpoint has been signed yet: run consent-ledger seal",
            "failure": {"reason": "no checkpoint has been signed yet", "version": None},
        }
    report = verify_bundle(bundle, public_key_from_raw(checkpoint.public_key), fixed_keys=True)
    failure = report.failure
    return {
        "verified": report.ok,
        "summary": report.summary(),
        "failure": None
        if failure is None
        else {"reason": failure.reason, "version": failure.version, "event_id": failure.event_id},
    }
