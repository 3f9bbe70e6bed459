"""Where campaign receipts sit in the Merkle log: each receipt event's leaf and inclusion
proof against the latest signed checkpoint, so an auditor checks, with the ledger's
public key alone, that the receipt a proof rests on is the one the ledger sealed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ledger.attestation.proofs import inclusion_steps, keys_of, proof_from
from ledger.domain.times import format_time
from ledger.events import campaign_receipts_id
from ledger.persistence.merkle_store import MerkleStore


def checkpoint_object(store: MerkleStore) -> dict[str, Any] | None:
    """The latest signed checkpoint as bundles show it (None before the first)."""
    checkpoint = store.latest_checkpoint()
    if checkpoint is None:
        return None
    return {
        "note": checkpoint.note,
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "time": format_time(checkpoint.time),
    }


def log_proofs(
    store: MerkleStore, tenant: str, versions: Collection[int], tree_size: int
) -> dict[int, dict[str, Any]]:
    """Receipt version (in the tenant's chain) -> its leaf and inclusion proof, for the
    receipts the checkpoint of ``tree_size`` covers."""
    wanted = set(versions)
    leaves = {
        leaf.version: leaf
        for leaf in store.leaves_of(campaign_receipts_id(tenant))
        if leaf.version in wanted and leaf.leaf_index < tree_size
    }
    steps = {v: inclusion_steps(leaf.leaf_index, tree_size) for v, leaf in leaves.items()}
    if not steps:
        return {}
    nodes = store.nodes(keys_of(s for path in steps.values() for s in path))
    return {
        version: {
            "leaf_index": leaves[version].leaf_index,
            "leaf_hash": leaves[version].leaf_hash.hex(),
            "inclusion_proof": [p.hex() for p in proof_from(path, nodes.__getitem__)],
        }
        for version, path in steps.items()
    }
