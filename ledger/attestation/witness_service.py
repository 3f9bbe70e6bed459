"""The witness side of C2SP ``tlog-witness``: ``add-checkpoint`` checked and cosigned.

A submission is ``old <size>\\n``, up to 63 base64 consistency proof lines, an empty line,
then the log's signed checkpoint. The witness answers as the spec says:

- 400: malformed, or the old size is larger than the checkpoint's;
- 404: a log (origin) it does not witness; 403: no signature by a key it trusts;
- 409 (``text/x.tlog.size``, body ``<size>\\n``): the old size is not the size it last
  cosigned (a client out of date, or a checkpoint rolled back); 409 without a size: the
  same size with another root hash (a fork);
- 422: the consistency proof does not verify (a fork, or a rewritten log);
- 200: the cosignature line(s), after it stored the new checkpoint, atomically with the
  check.

Refusals of correctly signed checkpoints are kept as evidence (``WitnessState.refused``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.attestation.proofs import verify_consistency
from ledger.crypto.cosignature import Cosigner, cosign
from ledger.crypto.signed_note import NoteError, key_id, parse
from ledger.persistence.witness_state import Witnessed, WitnessState

log = logging.getLogger("ledger.witness")

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class WitnessAnswer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"
    outcome: str = "cosigned"  # for metrics and logs


class _Refused(Exception):
    def __init__(self, answer: WitnessAnswer, evidence: bool = False) -> None:
        super().__init__(answer.body)
        self.answer = answer
        self.evidence = evidence


def _refuse(status: int, outcome: str, message: str, *, evidence: bool = False) -> _Refused:
    return _Refused(WitnessAnswer(status, message + "\n", outcome=outcome), evidence)


@dataclass(frozen=True)
class _Submission:
    old_size: int
    proof: list[bytes]
    note: str
    origin: str
    tree_size: int
    root_hash: bytes
    text: str


def _parse(body: str) -> _Submission:
    head, separator, note = body.partition("\n\n")
    if not separator:
        raise _refuse(400, "malformed", "the body is old size, proof lines, an empty line, a note")
    lines = head.split("\n")
    spelled = lines[0].removeprefix("old ")
    if not lines[0].startswith("old ") or not spelled.isdigit() or spelled != str(int(spelled)):
        raise _refuse(400, "malformed", "the first line is 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise _refuse(400, "malformed", f"more than {MAX_PROOF_LINES} consistency proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
        parsed = parse(note)
    except (binascii.Error, ValueError, NoteError) as error:
        raise _refuse(400, "malformed", f"malformed submission: {error}") from None
    text_lines = parsed.text.split("\n")
    try:
        origin, size, root = text_lines[0], int(text_lines[1]), base64.b64decode(text_lines[2])
    except (IndexError, ValueError, binascii.Error):
        raise _refuse(400, "malformed", "the note is not a checkpoint") from None
    if len(root) != 32 or any(len(p) != 32 for p in proof) or text_lines[1] != str(size):
        raise _refuse(400, "malformed", "the note is not a checkpoint")
    return _Submission(int(spelled), proof, note, origin, size, root, parsed.text)


class WitnessService:
    def __init__(
        self,
        name: str,
        key: Ed25519PrivateKey,
        logs: dict[str, list[Ed25519PublicKey]],
        state: WitnessState,
        clock: Callable[[], float],
    ) -> None:
        self.cosigner = Cosigner(name, key.public_key())
        self.key = key
        self.logs = logs
        self.state = state
        self.clock = clock

    def add_checkpoint(self, body: str) -> WitnessAnswer:
        try:
            submission = _parse(body)
            self._check_signature(submission)
        except _Refused as refused:
            return refused.answer
        try:
            return self.state.advance(
                submission.origin,
                lambda current: self._decide(submission, current),
                lambda: self._cosign(submission),
            )
        except _Refused as refused:
            if refused.evidence:
                self.state.record_refusal(submission.origin, refused.answer.outcome, body)
            return refused.answer

    def _check_signature(self, submission: _Submission) -> None:
        trusted = self.logs.get(submission.origin)
        if trusted is None:
            raise _refuse(404, "unknown_log", f"this witness does not witness {submission.origin}")
        signatures = parse(submission.note).signatures
        for key in trusted:
            for signature in signatures:
                if (
                    signature.key_name == submission.origin
                    and signature.key_id == key_id(submission.origin, key)
                    and _verifies(key, signature.signature, submission.text)
                ):
                    return
        raise _refuse(403, "bad_signature", "no signature by a key this witness trusts verifies")

    def _decide(self, submission: _Submission, current: Witnessed | None) -> tuple[Witnessed, str]:
        old, size = submission.old_size, submission.tree_size
        if old > size:
            raise _refuse(
                400, "malformed", f"old size {old} is larger than the checkpoint's {size}"
            )
        stored = current.tree_size if current else 0
        if old != stored:
            raise _Refused(
                WitnessAnswer(409, f"{stored}\n", SIZE_CONTENT_TYPE, outcome="conflict"),
                evidence=size < stored,  # a rolled-back log
            )
        if current is not None and old == size:
            if not hmac.compare_digest(current.root_hash, submission.root_hash):
                raise _refuse(409, "fork", "same tree size, another root hash", evidence=True)
        elif old == 0:  # every tree extends the empty one; the proof is empty
            if submission.proof:
                raise _refuse(422, "inconsistent", "the proof must be empty from size 0")
        elif current is not None and not verify_consistency(
            old, size, current.root_hash, submission.root_hash, submission.proof
        ):
            raise _refuse(
                422, "inconsistent", "the consistency proof does not verify", evidence=True
            )
        return Witnessed(submission.origin, size, submission.root_hash), submission.note

    def _cosign(self, submission: _Submission) -> WitnessAnswer:
        line = cosign(submission.text, self.cosigner.name, self.key, int(self.clock()))
        return WitnessAnswer(200, line)


def _verifies(key: Ed25519PublicKey, signature: bytes, text: str) -> bool:
    try:
        key.verify(signature, text.encode("utf-8"))
    except (InvalidSignature, ValueError):  # ValueError: a signature of the wrong length
        return False
    return True
