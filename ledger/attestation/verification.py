"""Offline verification of an attestation bundle with nothing but the ledger's public key.

In order, and stopping at the first failure:

1. the checkpoint's signed note verifies with the key, and the bundle's copies of its
   fields agree with the signed text;
2. the events run from version 1 with no gap, each belongs to the bundle's subject, its
   ``hash`` is SHA-256 of its canonical document, its ``prev_hash`` is the hash of the
   version before (64 zeros for version 1), its leaf hash is recomputed from the event
   object, and its inclusion proof leads from that leaf to the checkpoint's root;
3. every disclosure opens the commitment of the event and field it names.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.attestation.checkpoint import Checkpoint, open_checkpoint
from ledger.attestation.leaves import PROOF_FIELDS, entry_leaf_hash
from ledger.attestation.proofs import verify_inclusion
from ledger.crypto.chain import document_hash
from ledger.crypto.commitments import Disclosure, opens
from ledger.crypto.signed_note import NoteError, key_id
from ledger.domain.times import format_time
from ledger.events import GENESIS_HASH


@dataclass(frozen=True)
class Failure:
    reason: str
    version: int | None = None
    event_id: str | None = None

    def describe(self) -> str:
        if self.version is None:
            return self.reason
        named = f" ({self.event_id})" if self.event_id else ""
        return f"event v{self.version}{named}: {self.reason}"


@dataclass(frozen=True)
class Report:
    events: int
    disclosures: int
    checkpoint: Checkpoint | None
    key_id: str | None
    failure: Failure | None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def summary(self) -> str:
        if self.failure is not None:
            return f"FAILED: {self.failure.describe()}"
        cp = self.checkpoint
        if cp is None:
            return "FAILED: no checkpoint"
        return (
            f"OK: {self.events} events (hash chain v1-v{self.events}), {self.events} inclusion "
            f"proofs and {self.disclosures} disclosures verified against checkpoint "
            f"{cp.origin} tree size {cp.tree_size} of {format_time(cp.time)}, signed by key "
            f"{cp.origin} ({self.key_id})"
        )


class _Failed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


def verify_bundle(bundle: Any, key: Ed25519PublicKey, *, fixed_keys: bool = False) -> Report:
    """Check every link of the bundle (``fixed_keys``: its events were built here from
    stored events whose objects have the keys the code chose; ``verify`` never says so)."""
    checkpoint: Checkpoint | None = None
    key_hex: str | None = None
    events: list[Mapping[str, Any]] = []
    try:
        if not isinstance(bundle, Mapping):
            raise _Failed(Failure("the bundle is not a JSON object"))
        checkpoint = _checkpoint(bundle.get("checkpoint"), key)
        key_hex = key_id(checkpoint.origin, key).hex()
        events = _events(bundle, checkpoint, fixed_keys)
        disclosures = _disclosures(bundle.get("disclosures", []), events)
    except _Failed as failed:
        return Report(len(events), 0, checkpoint, key_hex, failed.failure)
    return Report(len(events), disclosures, checkpoint, key_hex, None)


def _checkpoint(data: Any, key: Ed25519PublicKey) -> Checkpoint:
    if not isinstance(data, Mapping) or not isinstance(data.get("note"), str):
        raise _Failed(Failure("checkpoint: the bundle carries no signed checkpoint"))
    try:
        checkpoint = open_checkpoint(data["note"], key)
    except NoteError as error:
        raise _Failed(Failure(f"checkpoint: {error}")) from None
    signed = {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "time": format_time(checkpoint.time),
    }
    for name, value in signed.items():
        if name in data and data[name] != value:
            reason = f"checkpoint: {name} {data[name]!r} differs from the signed note's {value!r}"
            raise _Failed(Failure(reason))
    return checkpoint


def _events(
    bundle: Mapping[str, Any], checkpoint: Checkpoint, fixed_keys: bool
) -> list[Mapping[str, Any]]:
    subject = bundle.get("subject")
    entries = bundle.get("events")
    if not isinstance(subject, Mapping) or not isinstance(entries, list):
        raise _Failed(Failure("the bundle has no subject or no events list"))
    if not entries:
        raise _Failed(Failure("the bundle holds no events: there is nothing to verify"))
    checked: list[Mapping[str, Any]] = []
    previous_hash, previous_leaf = GENESIS_HASH, -1
    for expected, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise _Failed(Failure("the entry is not a JSON object", expected))
        version = entry.get("version")

        def fail(reason: str, entry: Mapping[str, Any] = entry, at: int = expected) -> _Failed:
            return _failed_at(entry, at, reason)

        if entry.get("missing"):
            raise fail(
                f"missing from the ledger, although the log sealed it at leaf "
                f"{entry.get('leaf_index')}: it was removed"
            )
        if entry.get("unreadable"):
            raise fail(f"cannot be read from the ledger: {entry['unreadable']}")
        if version != expected:
            if isinstance(version, int) and version < expected:
                raise fail(f"out of order: it comes after v{expected - 1}")
            raise fail(
                f"v{expected} is missing: the chain jumps from v{expected - 1} to v{version}"
            )
        if entry.get("subject_id") != subject.get("subject_id"):
            raise fail("it belongs to another subject")
        document = {k: v for k, v in entry.items() if k not in PROOF_FIELDS and k != "hash"}
        try:
            digest = document_hash(document, ascii_keys=fixed_keys)
        except ValueError as error:
            raise fail(f"its contents cannot be canonicalised (RFC 8785): {error}") from None
        if digest != entry.get("hash"):
            raise fail("its hash does not match its contents: the event was altered")
        if entry.get("prev_hash") != previous_hash:
            raise fail(f"its prev_hash is not the hash of v{expected - 1}: the chain is broken")
        _check_leaf(entry, checkpoint, previous_leaf, fail, fixed_keys)
        previous_hash, previous_leaf = entry["hash"], entry["leaf_index"]
        checked.append(entry)
    return checked


def _failed_at(entry: Mapping[str, Any], expected: int, reason: str) -> _Failed:
    version, event_id = entry.get("version"), entry.get("event_id")
    return _Failed(
        Failure(
            reason,
            version if isinstance(version, int) else expected,
            event_id if isinstance(event_id, str) else None,
        )
    )


def _check_leaf(
    entry: Mapping[str, Any],
    checkpoint: Checkpoint,
    previous_leaf: int,
    fail: Any,
    fixed_keys: bool,
) -> None:
    index, proof = entry.get("leaf_index"), entry.get("inclusion_proof")
    if not isinstance(index, int) or not isinstance(proof, list):
        raise fail(
            f"not covered by the checkpoint (tree size {checkpoint.tree_size}): it was recorded "
            "after the checkpoint was signed; fetch the bundle again after the next seal"
        )
    if index <= previous_leaf:
        raise fail("its leaf comes before the previous event's: the events were reordered")
    leaf = entry_leaf_hash(entry, fixed_keys=fixed_keys)
    if entry.get("leaf_hash") != leaf.hex():
        raise fail(f"it differs from what the log sealed at leaf {index}: it was altered")
    try:
        path = [bytes.fromhex(step) for step in proof]
    except (TypeError, ValueError, binascii.Error):
        raise fail("its inclusion proof is not a list of hex hashes") from None
    if not verify_inclusion(leaf, index, checkpoint.tree_size, path, checkpoint.root_hash):
        raise fail(
            f"its inclusion proof does not lead to the checkpoint's root (tree size "
            f"{checkpoint.tree_size})"
        )


def _disclosures(data: Any, events: Sequence[Mapping[str, Any]]) -> int:
    if not isinstance(data, list):
        raise _Failed(Failure("disclosures: not a list"))
    by_id = {event["event_id"]: event for event in events}
    for item in data:
        if not isinstance(item, Mapping) or not all(
            isinstance(item.get(k), str) for k in ("event_id", "field", "salt", "value")
        ):
            raise _Failed(Failure("disclosures: an item lacks event_id, field, salt or value"))
        event = by_id.get(item["event_id"])
        if event is None:
            raise _Failed(Failure(f"disclosure for unknown event {item['event_id']}"))
        commitment = (event.get("commitments") or {}).get(item["field"])
        disclosure = Disclosure(field=item["field"], salt=item["salt"], value=item["value"])
        try:
            matches = isinstance(commitment, str) and opens(commitment, disclosure)
        except ValueError:
            matches = False
        if not matches:
            raise _Failed(
                Failure(
                    f"the disclosed {item['field']} does not open its commitment",
                    event["version"],
                    event["event_id"],
                )
            )
    return len(data)
