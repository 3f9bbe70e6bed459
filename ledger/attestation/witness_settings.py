"""Which witnesses the log submits its checkpoints to, and when a checkpoint counts.

``CONSENT_LEDGER_WITNESSES``: one witness per line (or separated by ``,``), each
``<submission URL> <witness vkey>``, the vkey being ``<name>+<key id>+base64(0x04 ||
Ed25519 key)`` as ``consent-ledger witness`` prints it. ``CONSENT_LEDGER_WITNESS_QUORUM``:
how many of them must cosign (default 0: witnessing is opt-in). Or
``CONSENT_LEDGER_WITNESS_POLICY``: a C2SP ``tlog-policy`` file (its ``witness`` lines
with URLs are where to submit; its ``quorum`` decides), instead of both.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.attestation.witness_policy import (
    PolicyError,
    Witness,
    WitnessPolicy,
    k_of_n,
    parse_policy,
)
from ledger.crypto.cosignature import parse_vkey
from ledger.crypto.signed_note import NoteError


class WitnessSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    witnesses: str = Field(default="", alias="CONSENT_LEDGER_WITNESSES")
    quorum: int = Field(default=0, ge=0, alias="CONSENT_LEDGER_WITNESS_QUORUM")
    policy_file: Path | None = Field(default=None, alias="CONSENT_LEDGER_WITNESS_POLICY")
    timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, alias="CONSENT_LEDGER_WITNESS_TIMEOUT_SECONDS"
    )

    def policy(self) -> WitnessPolicy:
        """The policy these settings describe; ``PolicyError`` names what is wrong."""
        if self.policy_file is not None:
            if self.witnesses.strip() or self.quorum:
                raise PolicyError(
                    "set CONSENT_LEDGER_WITNESS_POLICY or CONSENT_LEDGER_WITNESSES with "
                    "CONSENT_LEDGER_WITNESS_QUORUM, not both"
                )
            try:
                return parse_policy(self.policy_file.read_text("utf-8"))
            except OSError as error:
                raise PolicyError(f"cannot read {self.policy_file}: {error.strerror}") from None
        return k_of_n(parse_witnesses(self.witnesses), self.quorum)


def parse_witnesses(spelled: str) -> list[Witness]:
    witnesses: list[Witness] = []
    for entry in spelled.replace(",", "\n").split("\n"):
        if not entry.strip():
            continue
        words = entry.split()
        if len(words) != 2:
            raise PolicyError(
                f"CONSENT_LEDGER_WITNESSES: {entry.strip()[:80]!r} is not '<URL> <witness vkey>'"
            )
        url, vkey = words
        if not url.startswith(("http://", "https://")):
            raise PolicyError(f"CONSENT_LEDGER_WITNESSES: {url!r} is not an http(s) URL")
        try:
            cosigner = parse_vkey(vkey)
        except NoteError as error:
            raise PolicyError(f"CONSENT_LEDGER_WITNESSES: {error}") from None
        if any(w.cosigner.name == cosigner.name for w in witnesses):
            raise PolicyError(f"CONSENT_LEDGER_WITNESSES: {cosigner.name!r} is listed twice")
        witnesses.append(Witness(cosigner.name, cosigner, url))
    return witnesses
