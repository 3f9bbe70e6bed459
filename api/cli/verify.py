"""``consent-ledger verify BUNDLE.json --public-key FILE``: check a bundle offline.

It also checks a C2SP ``.tlog-proof`` file (``…/tlog-proofs?version=N``): the log's
signature, the witness quorum and the inclusion of the leaf it carries. With
``--policy FILE`` (C2SP tlog-policy) or ``--witness VKEY … --quorum K``, a checkpoint
lacking the quorum of verified cosignatures is refused (exit 1).

Needs no database and no network: the checkpoint signature, every event hash, the
prev_hash chain from version 1 with no gap, every inclusion proof and every disclosure.
Exit 0 with a one-line summary when all hold; 1 with the first event that fails and why;
2 when the bundle or the key cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.attestation.signing_keys import SigningKeyError, load_public_key
from ledger.attestation.tlog_proof_check import TlogProofRefused, check_tlog_proof
from ledger.attestation.verification import verify_bundle
from ledger.attestation.witness_policy import (
    PolicyError,
    Witness,
    WitnessPolicy,
    k_of_n,
    parse_policy,
    quorum_failure,
)
from ledger.crypto.cosignature import parse_vkey
from ledger.crypto.signed_note import NoteError
from ledger.crypto.tlog_proof import HEADER as TLOG_PROOF_HEADER


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "verify", help="verify an attestation bundle offline with the ledger's public key"
    )
    parser.add_argument("bundle", type=Path, help="the bundle (JSON); - reads standard input")
    parser.add_argument(
        "--public-key", required=True, type=Path, help="the ledger's Ed25519 public key (PEM)"
    )
    parser.add_argument(
        "--policy",
        type=Path,
        help="a C2SP tlog-policy file: the witnesses and the quorum the checkpoint needs",
    )
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="a witness's verifier key (repeat for several); with --quorum",
    )
    parser.add_argument(
        "--quorum", type=int, default=0, help="how many --witness must cosign (default 0)"
    )
    parser.set_defaults(run=run)


def _policy(args: argparse.Namespace) -> WitnessPolicy:
    if args.policy is not None:
        if args.witness or args.quorum:
            raise PolicyError("give --policy or --witness with --quorum, not both")
        try:
            return parse_policy(args.policy.read_text("utf-8"))
        except OSError as error:
            raise PolicyError(f"cannot read {args.policy}: {error.strerror}") from None
    witnesses = []
    for vkey in args.witness:
        try:
            cosigner = parse_vkey(vkey)
        except NoteError as error:
            raise PolicyError(str(error)) from None
        witnesses.append(Witness(cosigner.name, cosigner))
    return k_of_n(witnesses, args.quorum)


def run(args: argparse.Namespace) -> int:
    try:
        key = load_public_key(args.public_key)
        policy = _policy(args)
    except (SigningKeyError, PolicyError) as error:
        print(f"consent-ledger verify: {error}", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if str(args.bundle) == "-" else args.bundle.read_text("utf-8")
        if text.startswith(TLOG_PROOF_HEADER):
            return _tlog_proof(text, key, policy)
        bundle = json.loads(text)
    except OSError as error:
        message = f"cannot read {args.bundle}: {error.strerror}"
        print(f"consent-ledger verify: {message}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        print(f"consent-ledger verify: {args.bundle} is not JSON: {error}", file=sys.stderr)
        return 2
    report = verify_bundle(bundle, key)
    if report.ok:
        note = (bundle.get("checkpoint") or {}).get("note")
        failure = quorum_failure(note, policy) if isinstance(note, str) else "no checkpoint"
        if failure is not None:
            print(f"FAILED: {failure}")
            return 1
        witnessed = "" if policy.quorum == "none" else f"; witnessed: {policy.describe()}"
        print(report.summary() + witnessed)
        return 0
    print(report.summary())
    return 1


def _tlog_proof(text: str, key: Ed25519PublicKey, policy: WitnessPolicy) -> int:
    try:
        checked = check_tlog_proof(text, key, policy)
    except TlogProofRefused as refused:
        print(f"FAILED: {refused}")
        return 1
    witnessed = "" if policy.quorum == "none" else f"; witnessed: {policy.describe()}"
    print(
        f"OK: leaf {checked.index} is in checkpoint {checked.checkpoint.origin} tree size "
        f"{checked.checkpoint.tree_size}{witnessed}"
    )
    return 0
