"""``consent-ledger seal``: extend the attestation log and sign checkpoints.

``--once`` seals everything recorded so far and exits; ``--every SECONDS`` does so in a
loop until SIGTERM or SIGINT, finishing the pass in progress before it stops.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError

from api.cli.stopping import worker_http
from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpoint_settings import CheckpointSettings
from ledger.attestation.checkpointer import Checkpointer, LogCorrupted
from ledger.attestation.key_rotation import RotationRefused, rotate_signing_key
from ledger.attestation.signing_keys import SigningKeyError, load_private_key
from ledger.attestation.storage import open_merkle_store
from ledger.attestation.witness_client import witness_submitter
from ledger.attestation.witness_policy import PolicyError
from ledger.crypto.signed_note import key_id, verifier_key
from ledger.persistence.merkle_store import CheckpointConflict
from ledger.runtime.liveness import beat
from ledger.runtime.metrics import CHECKPOINT_AGE, CHECKPOINT_PASSES, CHECKPOINT_TREE_SIZE
from ledger.runtime.storage_settings import StorageSettings

log = logging.getLogger("ledger.sealer")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "seal", help="add new events to the Merkle log and sign a checkpoint"
    )
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--once", action="store_true", help="one pass, then exit")
    when.add_argument(
        "--every", type=float, metavar="SECONDS", help="a pass every SECONDS until SIGTERM"
    )
    when.add_argument(
        "--rotate-to",
        type=Path,
        metavar="NEW_KEY_FILE",
        help="seal, then sign a rotation checkpoint with the current and the new key; "
        "then point CONSENT_LEDGER_SIGNING_KEY at NEW_KEY_FILE",
    )
    parser.set_defaults(run=run)


def _fail(message: str) -> int:
    log.error("seal refused to start", extra={"error": message})
    print(f"consent-ledger seal: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    if args.every is not None and args.every <= 0:
        return _fail("--every needs a positive number of seconds")
    try:
        settings = CheckpointSettings()
    except ValidationError as error:
        return _fail(str(error))
    if settings.signing_key is None:
        return _fail(
            "CONSENT_LEDGER_SIGNING_KEY is not set: it names the Ed25519 private key file "
            "(create one with: consent-ledger keys signing-key --out FILE)"
        )
    try:
        key = load_private_key(settings.signing_key)
    except SigningKeyError as error:
        return _fail(str(error))
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("stopping after the current pass", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    looping = args.every is not None
    with (
        ConsentLedger(StorageSettings().eventsourcing_env()) as ledger,
        worker_http("seal", enabled=looping),
    ):
        sealer = Checkpointer(
            ledger,
            open_merkle_store(ledger),
            key,
            origin=settings.origin,
            batch_size=settings.batch_size,
        )
        if args.rotate_to is not None:
            return _rotate(sealer, args.rotate_to)
        age = _CheckpointAge(sealer)
        CHECKPOINT_AGE.set_function(age.seconds)
        try:
            submitter = witness_submitter(ledger, sealer.store)
        except PolicyError as error:
            return _fail(str(error))
        log.info("sealer started", extra={"origin": settings.origin, "every": args.every})
        while True:
            beat()
            code = _pass(sealer)
            age.refresh()
            if code == 0 and submitter is not None:
                submitter.submit_latest()  # counted and logged per witness
            if args.every is None:
                return code
            if code == 3:
                return code  # the stored tree is corrupt: stop, never sign past it
            if _rest(stop, args.every):
                log.info("sealer stopped")
                return 0


def _rest(stop: threading.Event, seconds: float) -> bool:
    """Wait between passes, beating meanwhile (``/healthz`` watches the beat); True when
    stopped."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        beat()
        if stop.wait(min(left, 5.0)):
            return True
    return False


class _CheckpointAge:
    """Seconds since the newest signed checkpoint, for ``/metrics`` (the alert rules);
    read from the store after each pass, on the sealer's own thread."""

    def __init__(self, sealer: Checkpointer) -> None:
        self.sealer = sealer
        self.latest: float | None = None

    def refresh(self) -> None:
        try:
            latest = self.sealer.store.latest_checkpoint()
        except PersistenceError:  # the database is away: the age keeps growing
            return
        if latest is not None:
            self.latest = latest.time.timestamp()

    def seconds(self) -> float:
        return 0.0 if self.latest is None else max(0.0, time.time() - self.latest)


def _pass(sealer: Checkpointer) -> int:
    started = time.perf_counter()
    try:
        result = sealer.checkpoint_once()
    except CheckpointConflict as conflict:
        CHECKPOINT_PASSES.labels("skipped").inc()
        log.warning("another sealer is writing; skipped this pass", extra={"reason": str(conflict)})
        return 1
    except PersistenceError as error:
        CHECKPOINT_PASSES.labels("failed").inc()
        log.error("sealing failed; nothing was signed", extra={"error": str(error)})
        return 1
    except LogCorrupted as corrupted:
        CHECKPOINT_PASSES.labels("corrupt").inc()
        log.error("the attestation log is corrupt", extra={"error": str(corrupted)})
        return 3
    checkpoint = result.checkpoint
    CHECKPOINT_PASSES.labels("signed" if checkpoint else "unchanged").inc()
    CHECKPOINT_TREE_SIZE.set(result.tree_size)
    log.info(
        "sealed",
        extra={
            "leaves_added": result.leaves_added,
            "tree_size": result.tree_size,
            "checkpoint_signed": checkpoint is not None,
            "root_hash": checkpoint.root_hash.hex() if checkpoint else None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return 0


def _rotate(sealer: Checkpointer, new_key_file: Path) -> int:
    try:
        new_key = load_private_key(new_key_file)
        checkpoint = rotate_signing_key(sealer, new_key)
    except (SigningKeyError, RotationRefused) as error:
        return _fail(str(error))
    except (CheckpointConflict, PersistenceError) as error:
        log.error("the rotation failed; nothing was signed", extra={"error": str(error)})
        return 1
    except LogCorrupted as corrupted:
        log.error("the attestation log is corrupt", extra={"error": str(corrupted)})
        return 3
    log.info(
        "signing key rotated",
        extra={
            "tree_size": checkpoint.tree_size,
            "old_key_id": key_id(sealer.origin, sealer.key.public_key()).hex(),
            "new_key_id": key_id(sealer.origin, new_key.public_key()).hex(),
        },
    )
    print(verifier_key(sealer.origin, new_key.public_key()))
    return 0
