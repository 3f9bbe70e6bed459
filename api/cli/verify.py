"""``consent-ledger verify BUNDLE.json --public-key FILE``: check a bundle offline.

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

from ledger.attestation.signing_keys import SigningKeyError, load_public_key
from ledger.attestation.verification import verify_bundle


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "verify", help="verify an attestation bundle offline with the ledger's public key"
    )
    parser.add_argument("bundle", type=Path, help="the bundle (JSON); - reads standard input")
    parser.add_argument(
        "--public-key", required=True, type=Path, help="the ledger's Ed25519 public key (PEM)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        key = load_public_key(args.public_key)
    except SigningKeyError as error:
        print(f"consent-ledger verify: {error}", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if str(args.bundle) == "-" else args.bundle.read_text("utf-8")
        bundle = json.loads(text)
    except OSError as error:
        message = f"cannot read {args.bundle}: {error.strerror}"
        print(f"consent-ledger verify: {message}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        print(f"consent-ledger verify: {args.bundle} is not JSON: {error}", file=sys.stderr)
        return 2
    report = verify_bundle(bundle, key)
    print(report.summary())
    return 0 if report.ok else 1
