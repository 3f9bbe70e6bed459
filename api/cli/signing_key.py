"""``consent-ledger keys signing-key --out FILE``: a new Ed25519 signing key.

The private key is written to FILE (PKCS #8 PEM, mode 0600, never over an existing
file); only the public key (PEM) is printed, for auditors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledger.attestation.signing_keys import SigningKeyError, public_pem, write_new_private_key


def add_parser(keys: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = keys.add_parser(
        "signing-key",
        help="write a new Ed25519 private key to FILE; prints only the public key (PEM)",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE")
    parser.set_defaults(run=create_signing_key)


def create_signing_key(args: argparse.Namespace) -> int:
    try:
        public = write_new_private_key(args.out)
    except SigningKeyError as error:
        print(f"consent-ledger keys signing-key: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(public_pem(public))
    return 0
