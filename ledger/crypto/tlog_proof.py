"""C2SP ``tlog-proof`` (c2sp.org/tlog-proof): an offline-verifiable proof of inclusion.

::

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <leaf index>
    <base64 inclusion proof hash, leaf's sibling first>…

    <the checkpoint, verbatim, with its signatures and cosignatures>
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

HEADER = "c2sp.org/tlog-proof@v1"
HASH_BYTES = 32


class TlogProofError(ValueError):
    """The text is not a tlog-proof."""


@dataclass(frozen=True)
class TlogProof:
    index: int
    inclusion_proof: tuple[bytes, ...]
    checkpoint: str  # the signed note, verbatim
    extra: bytes | None = None

    def text(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {base64.b64encode(self.extra).decode('ascii')}")
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(h).decode("ascii") for h in self.inclusion_proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint


def _b64(spelled: str, what: str) -> bytes:
    try:
        return base64.b64decode(spelled, validate=True)
    except (binascii.Error, ValueError):
        raise TlogProofError(f"{what} is not base64") from None


def parse_tlog_proof(text: str) -> TlogProof:
    head, separator, checkpoint = text.partition("\n\n")
    if not separator or not checkpoint:
        raise TlogProofError("a tlog-proof has an empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise TlogProofError(f"a tlog-proof starts with {HEADER}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest[0][len("extra ") :], "the extra data")
        rest = rest[1:]
    if not rest or not rest[0].startswith("index "):
        raise TlogProofError("a tlog-proof names the entry's index")
    spelled = rest[0][len("index ") :]
    if not spelled.isdigit() or (spelled != "0" and spelled.startswith("0")):
        raise TlogProofError(f"index {spelled!r} is not a decimal without leading zeros")
    hashes = tuple(_b64(line, "an inclusion proof line") for line in rest[1:])
    if any(len(h) != HASH_BYTES for h in hashes):
        raise TlogProofError("an inclusion proof hash is not 32 bytes")
    return TlogProof(int(spelled), hashes, checkpoint, extra)
