"""Settings of the sealer process (``consent-ledger seal``), read from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.attestation.checkpointer import DEFAULT_BATCH
from ledger.crypto.signed_note import NoteError, check_key_name

DEFAULT_ORIGIN = "consent-ledger.local/log"


class CheckpointSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # The Ed25519 private key (PEM) that signs checkpoints; required to seal.
    signing_key: Path | None = Field(default=None, alias="CONSENT_LEDGER_SIGNING_KEY")
    # The log's name: first line of every checkpoint and the signature's key name.
    origin: str = Field(default=DEFAULT_ORIGIN, alias="CONSENT_LEDGER_LOG_ORIGIN")
    batch_size: int = Field(
        default=DEFAULT_BATCH, ge=1, le=100_000, alias="CONSENT_LEDGER_SEAL_BATCH_SIZE"
    )

    @field_validator("origin")
    @classmethod
    def _origin_is_a_key_name(cls, origin: str) -> str:
        try:
            check_key_name(origin)
        except NoteError as error:
            raise ValueError(str(error)) from None
        return origin
