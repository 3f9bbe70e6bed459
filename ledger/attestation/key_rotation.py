"""Rotating the checkpoint signing key without breaking old bundles.

``rotate_signing_key`` seals what is pending with the current (old) key, then signs a
*rotation checkpoint* of the same tree with both keys: one note, two signatures under the
log's origin. The checkpoints table records which key signed each checkpoint, so the key
history (``GET /v1/public-keys``) is read from it: each key with the first and last tree
size it signed; every key after the first with its rotation checkpoint.

``KeyChain`` is the auditor's side: starting from the one key it trusts (pinned), it
accepts each next key only through a rotation checkpoint that the trusted key signed
too, and refuses a checkpoint a key signed after it was rotated away.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.attestation.checkpoint import Checkpoint, open_checkpoint, parse_text
from ledger.attestation.checkpointer import Checkpointer
from ledger.crypto.signed_note import (
    NoteError,
    key_id,
    parse,
    parse_verifier_key,
    raw_public_key,
    sign,
)
from ledger.persistence.merkle_store import StoredCheckpoint


class RotationRefused(Exception):
    """The rotation cannot be made (same key, nothing signed yet, another key signing)."""


def rotate_signing_key(checkpointer: Checkpointer, new_key: Ed25519PrivateKey) -> Checkpoint:
    """Seal pending events with the old key, then sign the rotation checkpoint with both."""
    new_raw = raw_public_key(new_key.public_key())
    if hmac.compare_digest(new_raw, checkpointer.public_key):
        raise RotationRefused("the new key is the key that signs now")
    checkpointer.checkpoint_once()
    latest = checkpointer.store.latest_checkpoint()
    if latest is None:
        raise RotationRefused("no checkpoint was signed yet: nothing to rotate from")
    if not hmac.compare_digest(latest.public_key, checkpointer.public_key):
        raise RotationRefused("the latest checkpoint is signed by another key than the one given")
    checkpoint = Checkpoint(
        origin=checkpointer.origin,
        tree_size=latest.tree_size,
        root_hash=latest.root_hash,
        time=checkpointer.clock(),
    )
    text = checkpoint.text()
    old_signed = sign(text, checkpoint.origin, checkpointer.key)
    new_line = sign(text, checkpoint.origin, new_key).split("\n\n", 1)[1]
    checkpointer.store.add_checkpoint(
        StoredCheckpoint(
            tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash,
            time=checkpoint.time,
            origin=checkpoint.origin,
            public_key=new_raw,
            note=old_signed + new_line,
        )
    )
    return checkpoint


@dataclass(frozen=True)
class TrustedKey:
    key: Ed25519PublicKey
    from_tree_size: int
    until_tree_size: int | None  # the last size it may sign; None: the current key


class KeyChain:
    """The keys an auditor trusts for one log, from its pinned key along rotations."""

    def __init__(self, origin: str, pinned: Ed25519PublicKey) -> None:
        self.origin = origin
        self.keys = [TrustedKey(pinned, 0, None)]

    @classmethod
    def follow(cls, pinned: Ed25519PublicKey, published: Any) -> KeyChain:
        """Follow ``GET /v1/public-keys``: each rotation must be signed by the key before
        it and the key after it. ``NoteError`` says where the chain breaks."""
        if not isinstance(published, dict) or not isinstance(published.get("keys"), list):
            raise NoteError("the key history is not the JSON of GET /v1/public-keys")
        entries = published["keys"]
        chain = cls(str(published.get("origin", "")), pinned)
        pinned_id = key_id(chain.origin, pinned).hex()
        ids = [entry.get("key_id") for entry in entries]
        if pinned_id not in ids:
            raise NoteError(f"the pinned key ({pinned_id}) is not in the key history")
        start = ids.index(pinned_id)
        chain.keys = []
        for position, entry in enumerate(entries[start:]):
            _, key = parse_verifier_key(str(entry.get("verifier_key", "")))
            if position > 0:
                previous = chain.keys[-1].key
                note = entry.get("rotation_note") or ""
                try:
                    rotation = open_checkpoint(note, previous)
                    if open_checkpoint(note, key) != rotation:
                        raise NoteError("the two keys signed different checkpoints")
                except NoteError as error:
                    raise NoteError(
                        f"the rotation to key {entry.get('key_id')} does not verify: {error}"
                    ) from None
                chain.keys[-1] = TrustedKey(
                    previous, chain.keys[-1].from_tree_size, rotation.tree_size
                )
            chain.keys.append(TrustedKey(key, int(entry.get("from_tree_size") or 0), None))
        return chain

    def key_for(self, note: str) -> Ed25519PublicKey:
        """The trusted key that signed ``note``, if it was allowed to sign that tree size."""
        parsed = parse(note)
        size = parse_text(parsed.text).tree_size
        for trusted in reversed(self.keys):
            wanted = key_id(self.origin, trusted.key)
            if any(s.key_id == wanted and s.key_name == self.origin for s in parsed.signatures):
                if trusted.until_tree_size is not None and size > trusted.until_tree_size:
                    raise NoteError(
                        f"the checkpoint of {size} leaves is signed by key {wanted.hex()}, "
                        f"retired at tree size {trusted.until_tree_size}"
                    )
                return trusted.key
        raise NoteError("the checkpoint is signed by no key of the trusted chain")
