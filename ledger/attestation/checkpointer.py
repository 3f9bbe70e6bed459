"""The sealer: the one writer of the attestation log.

It follows the ledger's notification log in order (ids may have holes; they follow
commit order, so reading "after the last sealed id" never skips an event), gives each
event the next dense leaf index, stores the leaf and every perfect node it completes,
and signs a checkpoint of the new tree head.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.core import LedgerCore
from ledger.attestation.checkpoint import Checkpoint
from ledger.attestation.leaves import entry_leaf_hash, event_object
from ledger.crypto.merkle import CompactRange, NewNode, NodeKey, root_hash, root_keys
from ledger.crypto.signed_note import NoteError, check_key_name, open_note, raw_public_key
from ledger.domain.times import utc_now
from ledger.persistence.merkle_store import Leaf, MerkleStore, StoredCheckpoint

DEFAULT_BATCH = 5000


class LogCorrupted(Exception):
    """The stored tree no longer matches a checkpoint the log signed: nothing is signed."""


class KeyRetired(LogCorrupted):
    """This sealer's key was rotated away (the latest checkpoint is a rotation from it):
    it must not sign again; restart the sealer with the new key."""


@dataclass(frozen=True)
class CheckpointResult:
    leaves_added: int
    tree_size: int
    checkpoint: Checkpoint | None  # the checkpoint signed by this pass, if any


class Checkpointer:
    def __init__(
        self,
        ledger: LedgerCore,
        store: MerkleStore,
        key: Ed25519PrivateKey,
        *,
        origin: str,
        batch_size: int = DEFAULT_BATCH,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        check_key_name(origin)
        self.ledger = ledger
        self.store = store
        self.key = key
        self.public_key = raw_public_key(key.public_key())
        self.origin = origin
        self.batch_size = batch_size
        self.clock = clock

    def checkpoint_once(self) -> CheckpointResult:
        """Seal every event recorded so far, then sign a checkpoint if the tree grew."""
        added = 0
        while True:
            count = self._extend()
            added += count
            if count < self.batch_size:
                break
        checkpoint = self._sign_if_grown()
        return CheckpointResult(added, self.store.head().size, checkpoint)

    def _extend(self) -> int:
        head = self.store.head()
        log = CompactRange.load(head.size, self._nodes(root_keys(head.size)))
        notifications = self.ledger.recorder.select_notifications(
            start=head.last_notification_id, limit=self.batch_size, inclusive_of_start=False
        )
        leaves: list[Leaf] = []
        nodes: list[NewNode] = []
        for notification in notifications:
            event = self.ledger.ledger_event(notification)
            hashed = entry_leaf_hash(event_object(event), fixed_keys=type(event).fixed_keys)
            leaves.append(
                Leaf(
                    leaf_index=log.size,
                    notification_id=notification.id,
                    subject_id=event.originator_id,
                    version=event.originator_version,
                    leaf_hash=hashed,
                )
            )
            nodes.extend(log.append(hashed))
        if leaves:
            self.store.append(head.size, leaves, nodes)
        return len(leaves)

    def _sign_if_grown(self) -> Checkpoint | None:
        size = self.store.head().size
        latest = self.store.latest_checkpoint()
        if latest is not None and latest.tree_size >= size and latest.public_key == self.public_key:
            return None
        if latest is not None and latest.public_key != self.public_key:
            self._refuse_if_rotated_away(latest)
        wanted = set(root_keys(size))
        if latest is not None:
            wanted.update(root_keys(latest.tree_size))
        nodes = self._nodes(wanted)
        if latest is not None and not hmac.compare_digest(
            root_hash(latest.tree_size, nodes.__getitem__), latest.root_hash
        ):
            raise LogCorrupted(
                f"the stored tree of {latest.tree_size} leaves no longer has the root the log "
                "signed; refusing to sign a checkpoint inconsistent with it"
            )
        checkpoint = Checkpoint(
            origin=self.origin,
            tree_size=size,
            root_hash=root_hash(size, nodes.__getitem__),
            time=self.clock(),
        )
        self.store.add_checkpoint(
            StoredCheckpoint(
                tree_size=checkpoint.tree_size,
                root_hash=checkpoint.root_hash,
                time=checkpoint.time,
                origin=checkpoint.origin,
                public_key=self.public_key,
                note=checkpoint.sign(self.key),
            )
        )
        return checkpoint

    def _refuse_if_rotated_away(self, latest: StoredCheckpoint) -> None:
        try:
            open_note(latest.note, self.key.public_key())
        except NoteError:
            return  # another key signs this log, not a rotation from ours
        raise KeyRetired(
            f"the signing key was rotated away at tree size {latest.tree_size}; restart the "
            "sealer with the new key (CONSENT_LEDGER_SIGNING_KEY)"
        )

    def _nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        wanted = set(keys)
        found = self.store.nodes(wanted)
        missing = wanted - set(found)
        if missing:
            raise LogCorrupted(f"the stored tree lacks {len(missing)} nodes, e.g. {min(missing)}")
        return found
