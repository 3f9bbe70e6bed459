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

from ledger.attestation.checkpoint import Checkpoint, open_checkpoint
from ledger.attestation.key_rotation import KeyChain
from ledger.attestation.signing_keys import SigningKeyError, load_public_key
from ledger.attestation.tlog_proof_check import TlogProofRefused, check_tlog_proof
from ledger.attestation.verification import verify_bundle
from ledger.attestation.verifier_state import SplitView, accept, load_state, save_state
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
from ledger.crypto.tlog_proof import TlogProofError, parse_tlog_proof


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "verify", help="verify an attestation bundle offline with the ledger's public key"
    )
    parser.add_argument("bundle", type=Path, help="the bundle (JSON); - reads standard input")
    parser.add_argument(
        "--public-key", required=True, type=Path, help="the ledger's Ed25519 public key (PEM)"
    )
    parser.add_argument(
        "--public-keys",
        type=Path,
        help="the key history (GET /v1/public-keys): follow rotations from --public-key",
    )
    parser.add_argument(
        "--state",
        type=Path,
        help="split-view detection: the last checkpoint accepted per log (JSON, kept here)",
    )
    parser.add_argument(
        "--consistency",
        type=Path,
        help="with --state: the JSON of GET /v1/proofs/consistency between the two checkpoints",
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
        chain = _chain(args, key)
    except (SigningKeyError, PolicyError, NoteError) as error:
        print(f"consent-ledger verify: {error}", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if str(args.bundle) == "-" else args.bundle.read_text("utf-8")
        if text.startswith(TLOG_PROOF_HEADER):
            return _tlog_proof(text, key, policy, chain)
        bundle = json.loads(text)
    except OSError as error:
        message = f"cannot read {args.bundle}: {error.strerror}"
        print(f"consent-ledger verify: {message}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        print(f"consent-ledger verify: {args.bundle} is not JSON: {error}", file=sys.stderr)
        return 2
    if chain is not None:
        note = (bundle.get("checkpoint") or {}).get("note") if isinstance(bundle, dict) else None
        try:
            key = chain.key_for(note if isinstance(note, str) else "")
        except NoteError as error:
            print(f"FAILED: {error}")
            return 1
    report = verify_bundle(bundle, key)
    if report.ok:
        note = (bundle.get("checkpoint") or {}).get("note")
        if not isinstance(note, str):
            print("FAILED: the bundle has no checkpoint")
            return 1
        failure = quorum_failure(note, policy)
        if failure is not None:
            print(f"FAILED: {failure}")
            return 1
        witnessed = "" if policy.quorum == "none" else f"; witnessed: {policy.describe()}"
        if args.state is not None:
            try:
                witnessed += "; " + _against_state(args, open_checkpoint(note, key))
            except (SplitView, NoteError) as error:
                print(f"FAILED: {error}")
                return 1
        print(report.summary() + witnessed)
        return 0
    print(report.summary())
    return 1


def _against_state(args: argparse.Namespace, checkpoint: Checkpoint) -> str:
    try:
        state = load_state(args.state)
        consistency = json.loads(args.consistency.read_text("utf-8")) if args.consistency else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, ValueError) as error:
        raise SplitView(f"cannot read the state or the consistency proof: {error}") from None
    proven = accept(state, checkpoint, consistency)
    save_state(args.state, state)
    return proven


def _chain(args: argparse.Namespace, pinned: Ed25519PublicKey) -> KeyChain | None:
    if args.public_keys is None:
        return None
    try:
        published = json.loads(args.public_keys.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NoteError(f"cannot read the key history {args.public_keys}: {error}") from None
    return KeyChain.follow(pinned, published)


def _tlog_proof(
    text: str, key: Ed25519PublicKey, policy: WitnessPolicy, chain: KeyChain | None
) -> int:
    try:
        if chain is not None:
            key = chain.key_for(parse_tlog_proof(text).checkpoint)
        checked = check_tlog_proof(text, key, policy)
    except (TlogProofRefused, TlogProofError, NoteError) as refused:
        print(f"FAILED: {refused}")
        return 1
    witnessed = "" if policy.quorum == "none" else f"; witnessed: {policy.describe()}"
    print(
        f"OK: leaf {checked.index} is in checkpoint {checked.checkpoint.origin} tree size "
        f"{checked.checkpoint.tree_size}{witnessed}"
    )
    return 0
