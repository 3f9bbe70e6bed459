"""Checking one entry of a subject's campaign receipts, with hashes alone.

An entry holds the receipt event (as hashed, with its ``hash``) and either the proof that
the subject is in the receipt's list (``inclusion``) or that it is not
(``non_inclusion``). The check recomputes the receipt's hash from its fields, so the root
and count the proof is checked against are those the ledger chained and sealed; then it
checks the proof (``sorted_ids.py``). Given the checkpoint (its signed note opened with
the ledger's public key), it also checks the receipt's leaf and inclusion proof in the
Merkle log (``log``), so the receipt is the one the ledger sealed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.attestation.campaigns.sorted_ids import (
    Neighbour,
    NonMembership,
    verify_membership,
    verify_non_membership,
)
from ledger.attestation.checkpoint import Checkpoint
from ledger.attestation.leaves import entry_leaf_hash
from ledger.attestation.proofs import verify_inclusion
from ledger.crypto.chain import document_hash

# Fields a view adds beside the hashed receipt document.
VIEW_FIELDS = ("hash", "position", "receipt_id")


@dataclass(frozen=True)
class EntryCheck:
    ok: bool
    included: bool | None  # what the proof shows, when it holds
    reason: str | None = None


def receipt_hash_holds(receipt: Mapping[str, Any]) -> bool:
    document = {k: v for k, v in receipt.items() if k not in VIEW_FIELDS}
    return document_hash(document, ascii_keys=True) == receipt.get("hash")


def receipt_in_log(
    receipt: Mapping[str, Any], log: Mapping[str, Any] | None, checkpoint: Checkpoint
) -> str | None:
    """Why the receipt is not shown sealed under the checkpoint, or None when it is."""
    if not log:
        return (
            f"the receipt is not covered by the checkpoint (tree size {checkpoint.tree_size}): "
            "fetch the proofs again after the next seal"
        )
    leaf = entry_leaf_hash({k: v for k, v in receipt.items() if k != "position"}, fixed_keys=True)
    if log.get("leaf_hash") != leaf.hex():
        return f"the receipt differs from what the log sealed at leaf {log.get('leaf_index')}"
    path = [bytes.fromhex(step) for step in log["inclusion_proof"]]
    if not verify_inclusion(
        leaf, int(log["leaf_index"]), checkpoint.tree_size, path, checkpoint.root_hash
    ):
        return "the receipt's inclusion proof does not lead to the checkpoint's root"
    return None


def verify_entry(
    subject_id: UUID, entry: Mapping[str, Any], checkpoint: Checkpoint | None = None
) -> EntryCheck:
    """Whether the entry proves the subject in (or outside) the receipt it names; with a
    checkpoint (opened with the ledger's key), also that the log sealed that receipt."""
    try:
        receipt = entry["receipt"]
        if receipt.get("type") != "campaign_receipt_recorded":
            return EntryCheck(False, None, "not a campaign receipt")
        if not receipt_hash_holds(receipt):
            return EntryCheck(False, None, "the receipt does not match its hash")
        if checkpoint is not None:
            unsealed = receipt_in_log(receipt, entry.get("log"), checkpoint)
            if unsealed is not None:
                return EntryCheck(False, None, unsealed)
        root, size = bytes.fromhex(receipt["root"]), int(receipt["count"])
        if entry["included"] is True:
            proof = Neighbour.from_json(entry["inclusion"])
            if verify_membership(subject_id, proof, size, root):
                return EntryCheck(True, True)
            return EntryCheck(False, None, "the inclusion proof does not hold")
        if entry["included"] is False:
            absent = NonMembership.from_json(entry["non_inclusion"])
            if verify_non_membership(subject_id, absent, size, root):
                return EntryCheck(True, False)
            return EntryCheck(False, None, "the non-inclusion proof does not hold")
        return EntryCheck(False, None, "included must be true or false")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        return EntryCheck(False, None, f"malformed entry: {type(error).__name__}: {error}")
