"""Whether and how ``serve`` seals its own log (``CheckpointLoop``).

On the embedded SQLite default nothing else would ever seal: ``serve`` does so every
``DEFAULT_EVERY`` seconds, signing with ``CONSENT_LEDGER_SIGNING_KEY`` or, when that is
unset, with a key it creates on first start beside the SQLite file
(``consent-ledger.signing-key.pem`` beside ``consent-ledger.db``; mode 0600, never
overwritten, never printed or logged). On PostgreSQL the ``seal`` process does it
unless ``CONSENT_LEDGER_SEAL_EVERY_SECONDS`` asks ``serve`` to, with the configured key.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from ledger.application.core import LedgerCore
from ledger.attestation.checkpoint_loop import CheckpointLoop
from ledger.attestation.checkpoint_settings import CheckpointSettings
from ledger.attestation.checkpointer import Checkpointer
from ledger.attestation.signing_keys import SigningKeyError, ensure_private_key, load_private_key
from ledger.attestation.storage import open_merkle_store
from ledger.attestation.witness_client import WitnessWorker, witness_submitter
from ledger.runtime.storage_settings import StorageSettings

log = logging.getLogger("ledger.sealer")

DEFAULT_EVERY = 2.0
KEY_SUFFIX = ".signing-key.pem"


def default_key_path(storage: StorageSettings) -> Path:
    """Where the embedded default keeps its signing key: beside its SQLite file."""
    return storage.sqlite_path.with_suffix(KEY_SUFFIX)


def interval(every: float | None, storage: StorageSettings) -> float:
    """Seconds between in-process passes (``every`` as configured, None: the default for
    the storage); 0 when ``serve`` does not seal."""
    if every is not None:
        return every
    return 0.0 if storage.uses_postgres else DEFAULT_EVERY


def start_checkpoints(
    ledger: LedgerCore,
    storage: StorageSettings,
    settings: CheckpointSettings,
    every: float | None,
) -> CheckpointLoop | None:
    """The running loop, or None when this process does not seal (``every``: the
    configured interval, ``CONSENT_LEDGER_SEAL_EVERY_SECONDS``). Raises
    ``SigningKeyError`` when the key it needs cannot be had."""
    every = interval(every, storage)
    if every <= 0:
        return None
    if settings.signing_key is not None:
        key = load_private_key(settings.signing_key)
    elif storage.uses_postgres:
        raise SigningKeyError(
            "CONSENT_LEDGER_SEAL_EVERY_SECONDS asks serve to seal, but "
            "CONSENT_LEDGER_SIGNING_KEY is not set (create a key with: consent-ledger keys "
            "signing-key --out FILE)"
        )
    else:
        path = default_key_path(storage)
        key, created = ensure_private_key(path)
        mode = stat.S_IMODE(path.stat().st_mode)
        log.info(
            "signing key created" if created else "signing key loaded",
            extra={"key_file": str(path), "mode": oct(mode)},
        )
        if mode & 0o077:
            log.warning(
                "the signing key file is readable by others; chmod 600 it",
                extra={"key_file": str(path), "mode": oct(mode)},
            )
    checkpointer = Checkpointer(
        ledger,
        open_merkle_store(ledger),
        key,
        origin=settings.origin,
        batch_size=settings.batch_size,
    )
    submitter = witness_submitter(ledger, checkpointer.store)
    worker = WitnessWorker(submitter) if submitter else None
    loop = CheckpointLoop(checkpointer, every=every, after_pass=worker.notify if worker else None)
    if worker is not None:
        loop.on_close.append(worker.close)
    loop.start()
    log.info("in-process sealing started", extra={"every": every, "origin": settings.origin})
    return loop
