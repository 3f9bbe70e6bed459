"""What the log commits to for each event: the event object exactly as bundles show it.

The event object is the hashed document (``LedgerEvent.document()``) plus its ``hash``:
personal fields appear only as commitments, so the object never changes, even after
erasure. Its leaf bytes are the RFC 8785 canonical JSON of that object; bundles add the
proof fields beside it, and a verifier removes them before hashing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.crypto.canonical import canonical_json
from ledger.crypto.merkle import leaf_hash
from ledger.events import LedgerEvent

# Fields a bundle adds to an event object; they are not part of the leaf.
PROOF_FIELDS = ("leaf_index", "leaf_hash", "inclusion_proof")


def event_object(event: LedgerEvent) -> dict[str, Any]:
    return {**event.document(), "hash": event.hash}


def leaf_bytes(entry: Mapping[str, Any], *, fixed_keys: bool = False) -> bytes:
    """Canonical JSON of a bundle entry without its proof fields (``fixed_keys``: the
    entry was built here from an event whose class has fixed keys)."""
    return canonical_json(
        {k: v for k, v in entry.items() if k not in PROOF_FIELDS}, ascii_keys=fixed_keys
    )


def entry_leaf_hash(entry: Mapping[str, Any], *, fixed_keys: bool = False) -> bytes:
    return leaf_hash(leaf_bytes(entry, fixed_keys=fixed_keys))
