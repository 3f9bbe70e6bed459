"""``consent-ledger verify-campaigns PROOFS.json --public-key FILE``: check, offline, an
answer of ``GET /v1/subjects/{channel}/{address}/campaigns`` (one page).

For every receipt: its hash, its leaf and inclusion proof in the Merkle log against the
signed checkpoint (opened with the ledger's public key), and the proof that the subject
is in its list, or not (sorted-list neighbours). Exit 0 with a summary (how many
receipts held the subject, how many proved it absent); 1 naming the first receipt that
fails and why; 2 when the file or the key cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.attestation.campaigns.verification import verify_entry
from ledger.attestation.checkpoint import Checkpoint, open_checkpoint
from ledger.attestation.signing_keys import SigningKeyError, load_public_key
from ledger.crypto.signed_note import NoteError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "verify-campaigns",
        help="verify a subject's campaign receipt proofs offline with the ledger's public key",
    )
    parser.add_argument("proofs", type=Path, help="the …/campaigns answer (JSON); - for stdin")
    parser.add_argument(
        "--public-key", required=True, type=Path, help="the ledger's Ed25519 public key (PEM)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        key = load_public_key(args.public_key)
        text = sys.stdin.read() if str(args.proofs) == "-" else args.proofs.read_text("utf-8")
        answer = json.loads(text)
    except SigningKeyError as error:
        return _unreadable(str(error))
    except OSError as error:
        return _unreadable(f"cannot read {args.proofs}: {error.strerror}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return _unreadable(f"{args.proofs} is not JSON: {error}")
    summary, ok = check(answer, lambda note: open_checkpoint(note, key))
    print(summary)
    return 0 if ok else 1


def check(answer: Any, open_note: Any) -> tuple[str, bool]:
    if not isinstance(answer, dict) or not isinstance(answer.get("receipts"), list):
        return "FAILED: not an answer of …/campaigns (no receipts list)", False
    note = (answer.get("checkpoint") or {}).get("note")
    if not isinstance(note, str):
        return "FAILED: no signed checkpoint: run consent-ledger seal and fetch again", False
    try:
        checkpoint: Checkpoint = open_note(note)
        subject = UUID(str(answer.get("subject_id")))
    except NoteError as error:
        return f"FAILED: checkpoint: {error}", False
    except ValueError:
        return "FAILED: subject_id is not a UUID", False
    held = absent = 0
    for entry in answer["receipts"]:
        result = verify_entry(subject, entry, checkpoint)
        if not result.ok:
            receipt = entry.get("receipt", {}) if isinstance(entry, dict) else {}
            name = f"{receipt.get('campaign_id')} ({receipt.get('event_id')})"
            return f"FAILED: receipt {name}: {result.reason}", False
        held += result.included is True
        absent += result.included is False
    return (
        f"OK: {held + absent} receipts verified against checkpoint {checkpoint.origin} tree "
        f"size {checkpoint.tree_size}: {held} held the subject, {absent} proved it absent",
        True,
    )


def _unreadable(message: str) -> int:
    print(f"consent-ledger verify-campaigns: {message}", file=sys.stderr)
    return 2
