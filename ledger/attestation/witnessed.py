"""Checkpoints with their witnesses' cosignatures, and which of them count.

A checkpoint *counts* (is final) when the cosignatures stored for it meet the witness
policy; with the default policy (0 of 0) every signed checkpoint counts. Cosignatures
are verified again each time they are read, so a row altered behind the ledger's back
does not make a checkpoint count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ledger.attestation.witness_policy import WitnessPolicy
from ledger.crypto.cosignature import add_signature_lines, verified_cosignatures
from ledger.crypto.signed_note import NoteError
from ledger.persistence.cosignatures import CosignatureStore

log = logging.getLogger("ledger.witnessing")

RECENT = 64  # how far back /checkpoint looks for the latest checkpoint that counts


@dataclass(frozen=True)
class WitnessedCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str  # the log's signature and every verified cosignature
    cosigned_by: tuple[str, ...]
    final: bool


class WitnessedCheckpoints:
    def __init__(self, cosignatures: CosignatureStore, policy: WitnessPolicy) -> None:
        self.cosignatures = cosignatures
        self.policy = policy

    def witnessed(self, tree_size: int, root_hash: bytes, note: str) -> WitnessedCheckpoint:
        """``note`` (the log's signed checkpoint) with the cosignatures stored for it."""
        lines = self.cosignatures.lines(tree_size, root_hash)
        cosigned = add_signature_lines(note, [lines[name] for name in sorted(lines)])
        try:
            verified = verified_cosignatures(cosigned, self.policy.cosigners)
        except NoteError as error:
            log.error("a stored cosignature does not verify", extra={"error": str(error)})
            verified, cosigned = {}, note
        else:
            known = [verified[name].line for name in sorted(verified)]
            cosigned = add_signature_lines(note, known)
        names = tuple(sorted(verified))
        return WitnessedCheckpoint(
            tree_size, root_hash, cosigned, names, self.policy.satisfied_by(names)
        )

    def latest_final(self) -> WitnessedCheckpoint | None:
        for head in self.cosignatures.recent_checkpoints(RECENT):
            candidate = self.witnessed(head.tree_size, head.root_hash, head.note)
            if candidate.final:
                return candidate
        return None
