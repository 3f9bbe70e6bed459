"""``consent-ledger witness [--host H] [--port P]``: run a C2SP tlog-witness.

``consent-ledger witness --print-key`` prints the witness's verifier key (what a ledger
puts in ``CONSENT_LEDGER_WITNESSES``) and exits. Settings: ``CONSENT_LEDGER_WITNESS_*``
(see ``api/witness_app.py``). SIGTERM or SIGINT: uvicorn finishes the requests in flight,
the state file is closed, exit 0.
"""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn
from pydantic import ValidationError

from api.witness_app import WitnessServerSettings, build_service, create_witness_app
from ledger.attestation.signing_keys import SigningKeyError, load_private_key
from ledger.crypto.cosignature import Cosigner
from ledger.crypto.signed_note import NoteError

log = logging.getLogger("ledger.witness")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "witness", help="run a C2SP tlog-witness that cosigns consistent checkpoints"
    )
    parser.add_argument("--host", help="overrides CONSENT_LEDGER_WITNESS_HOST (127.0.0.1)")
    parser.add_argument("--port", type=int, help="overrides CONSENT_LEDGER_WITNESS_PORT (8100)")
    parser.add_argument(
        "--print-key", action="store_true", help="print the witness's verifier key and exit"
    )
    parser.set_defaults(run=run)


def _fail(message: str) -> int:
    log.error("witness refused to start", extra={"error": message})
    print(f"consent-ledger witness: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    try:
        settings = WitnessServerSettings()
        if args.print_key:
            if settings.key is None:
                return _fail("CONSENT_LEDGER_WITNESS_KEY is not set")
            key = load_private_key(settings.key).public_key()
            print(Cosigner(settings.name, key).vkey())
            return 0
        service = build_service(settings)
    except (ValidationError, ValueError, NoteError, SigningKeyError) as error:
        return _fail(str(error))
    uvicorn.run(
        create_witness_app(service),
        host=args.host or settings.host,
        port=args.port if args.port is not None else settings.port,
        log_config=None,
        timeout_graceful_shutdown=10,
    )
    return 0
