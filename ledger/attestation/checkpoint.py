"""Checkpoints: the log's signed tree heads, in the C2SP ``tlog-checkpoint`` text format.

The note text is the origin, the tree size, the base64 root hash and one extension line,
``time <RFC 3339 UTC>``, when the sealer signed it::

    consent-ledger.local/log
    1234
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
    time 2026-11-21T10:00:00.000000Z

    — consent-ledger.local/log Az3grlgt…

The key name of the signature is the origin.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.crypto.signed_note import NoteError, check_key_name, open_note, sign
from ledger.domain.times import format_time, parse_time

TIME_PREFIX = "time "
HASH_BYTES = 32


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    time: datetime

    def text(self) -> str:
        check_key_name(self.origin)
        root = base64.b64encode(self.root_hash).decode("ascii")
        return f"{self.origin}\n{self.tree_size}\n{root}\n{TIME_PREFIX}{format_time(self.time)}\n"

    def sign(self, key: Ed25519PrivateKey) -> str:
        return sign(self.text(), self.origin, key)


def parse_text(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 5 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
        raise NoteError("a checkpoint has an origin, a tree size, a root hash and a time line")
    origin, size, root, *extensions = lines[:-1]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError(f"tree size {size!r} is not a decimal number")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("the root hash is not base64") from None
    if len(root_hash) != HASH_BYTES:
        raise NoteError("the root hash is not 32 bytes")
    times = [line[len(TIME_PREFIX) :] for line in extensions if line.startswith(TIME_PREFIX)]
    if len(times) != 1:
        raise NoteError("a checkpoint of this log has exactly one time line")
    try:
        moment = parse_time(times[0])
    except ValueError:
        raise NoteError(f"checkpoint time {times[0]!r} is not an RFC 3339 time") from None
    return Checkpoint(origin=origin, tree_size=int(size), root_hash=root_hash, time=moment)


def open_checkpoint(note: str, key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint in ``note`` once its signature by ``key`` verifies."""
    opened = open_note(note, key)
    checkpoint = parse_text(opened.text)
    if not any(s.key_name == checkpoint.origin for s in opened.signatures):
        raise NoteError("the checkpoint is signed by this key, but not under its origin's name")
    return checkpoint
