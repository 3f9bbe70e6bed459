"""Encryption at rest of gateway secrets, and the fingerprints the ledger records.

With ``CONSENT_LEDGER_SECRETS_KEY`` set (32 random bytes, base64: ``openssl rand -base64
32``), secrets are encrypted with AES-256-GCM, bound to (tenant, gateway, secret id). Unset
(the default, meant for development), they are stored in clear and a warning is logged
once; rows encrypted under a key cannot be opened without it.

A fingerprint is HMAC-SHA256(salt, secret) with a random salt kept beside the secret,
never with it in the log: the public log (Kafka, Merkle proofs) shows *that* a secret
changed, and which one was in force, without allowing a guess of a weak secret to be
checked against it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.domain.errors import Unavailable

log = logging.getLogger(__name__)

PLAIN = "plain"
ENCRYPTED = "aes256gcm"
KEY_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16


class SecretsUnavailable(Unavailable):
    """Stored secrets cannot be opened (no key configured, or the wrong one)."""

    code = "secrets_unavailable"


class SecretsSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    secrets_key: SecretStr | None = Field(default=None, alias="CONSENT_LEDGER_SECRETS_KEY")


class SecretBox:
    def __init__(self, key: bytes | None) -> None:
        if key is not None and len(key) != KEY_BYTES:
            raise ValueError(f"the secrets key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key) if key is not None else None

    @classmethod
    def from_settings(cls, settings: SecretsSettings) -> SecretBox:
        if settings.secrets_key is None:
            log.warning(
                "gateway secrets are stored unencrypted: set CONSENT_LEDGER_SECRETS_KEY",
                extra={"setting": "CONSENT_LEDGER_SECRETS_KEY"},
            )
            return cls(None)
        try:
            key = base64.b64decode(settings.secrets_key.get_secret_value(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("CONSENT_LEDGER_SECRETS_KEY is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"CONSENT_LEDGER_SECRETS_KEY must decode to {KEY_BYTES} bytes")
        return cls(key)

    def encrypt(self, values: dict[str, str], context: bytes) -> tuple[str, str]:
        plain = json.dumps(values, separators=(",", ":"), sort_keys=True).encode("utf-8")
        if self._aead is None:
            return PLAIN, plain.decode("utf-8")
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, plain, context)
        return ENCRYPTED, base64.b64encode(nonce + ciphertext).decode("ascii")

    def decrypt(self, scheme: str, blob: str, context: bytes) -> dict[str, str]:
        if scheme == PLAIN:
            values: dict[str, str] = json.loads(blob)
            return values
        if self._aead is None:
            raise SecretsUnavailable(
                "the gateway secrets are encrypted and CONSENT_LEDGER_SECRETS_KEY is not set"
            )
        raw = base64.b64decode(blob)
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
        except InvalidTag:
            raise SecretsUnavailable(
                "the gateway secrets do not open with CONSENT_LEDGER_SECRETS_KEY"
            ) from None
        opened: dict[str, str] = json.loads(plain)
        return opened


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def fingerprint(salt: bytes, secret: str) -> str:
    digest = hmac.new(salt, secret.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest[:32]}"
