"""The attestation log for tests: a fresh signing key per test and a sealer over a ledger."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.core import LedgerCore
from ledger.attestation.checkpointer import Checkpointer
from ledger.attestation.storage import open_merkle_store

ORIGIN = "test.consent-ledger/log"


def new_sealer(
    ledger: LedgerCore, key: Ed25519PrivateKey | None = None, *, batch_size: int = 1000
) -> Checkpointer:
    return Checkpointer(
        ledger,
        open_merkle_store(ledger),
        key or Ed25519PrivateKey.generate(),
        origin=ORIGIN,
        batch_size=batch_size,
    )
