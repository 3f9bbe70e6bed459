"""Checking a C2SP ``tlog-proof`` of this log offline: the log's signature, the witness
quorum, and the inclusion of the leaf its ``extra`` line carries (or a leaf hash given)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.attestation.checkpoint import Checkpoint, open_checkpoint
from ledger.attestation.proofs import verify_inclusion
from ledger.attestation.witness_policy import WitnessPolicy, quorum_failure
from ledger.crypto.merkle import leaf_hash
from ledger.crypto.signed_note import NoteError
from ledger.crypto.tlog_proof import TlogProofError, parse_tlog_proof


class TlogProofRefused(ValueError):
    """The proof does not prove what it claims; the message says why."""


@dataclass(frozen=True)
class CheckedProof:
    index: int
    leaf: bytes | None
    checkpoint: Checkpoint


def check_tlog_proof(
    text: str,
    key: Ed25519PublicKey,
    policy: WitnessPolicy,
    *,
    leaf_hash_hex: str | None = None,
) -> CheckedProof:
    try:
        proof = parse_tlog_proof(text)
        checkpoint = open_checkpoint(proof.checkpoint, key)
    except (TlogProofError, NoteError) as error:
        raise TlogProofRefused(str(error)) from None
    failure = quorum_failure(proof.checkpoint, policy)
    if failure is not None:
        raise TlogProofRefused(failure)
    if leaf_hash_hex is not None:
        hashed = bytes.fromhex(leaf_hash_hex)
    elif proof.extra is not None:
        hashed = leaf_hash(proof.extra)
    else:
        raise TlogProofRefused("the proof carries no leaf (extra line) and none was given")
    if not verify_inclusion(
        hashed, proof.index, checkpoint.tree_size, proof.inclusion_proof, checkpoint.root_hash
    ):
        raise TlogProofRefused(
            f"the inclusion proof of leaf {proof.index} does not lead to the checkpoint's root"
        )
    return CheckedProof(proof.index, proof.extra, checkpoint)
