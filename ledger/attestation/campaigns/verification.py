"""Checking one entry of a subject's campaign receipts, with hashes alone.

An entry holds the receipt event (as hashed, with its ``hash``) and either the proof that
the subject is in the receipt's list (``inclusion``) or that it is not
(``non_inclusion``). The check recomputes the receipt's hash from its fields, so the root
and count the proof is checked against are those the ledger chained and sealed; then it
checks the proof (``sorted_ids.py``). The receipt's place in the Merkle log is proved by
the tenant's receipts chain like any event of the log.
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
from ledger.crypto.chain import document_hash

# Fields a view adds beside the hashed receipt document.
VIEW_FIELDS = ("hash", "position")


@dataclass(frozen=True)
class EntryCheck:
    ok: bool
    included: bool | None  # what the proof shows, when it holds
    reason: str | None = None


def receipt_hash_holds(receipt: Mapping[str, Any]) -> bool:
    document = {k: v for k, v in receipt.items() if k not in VIEW_FIELDS}
    return document_hash(document, ascii_keys=True) == receipt.get("hash")


def verify_entry(subject_id: UUID, entry: Mapping[str, Any]) -> EntryCheck:
    """Whether the entry proves the subject in (or outside) the receipt it names."""
    try:
        receipt = entry["receipt"]
        if receipt.get("type") != "campaign_receipt_recorded":
            return EntryCheck(False, None, "not a campaign receipt")
        if not receipt_hash_holds(receipt):
            return EntryCheck(False, None, "the receipt does not match its hash")
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
