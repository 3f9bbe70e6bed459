"""The ledger's Ed25519 signing key: PEM files, never in the repository.

The private key is a PKCS #8 PEM file named by ``CONSENT_LEDGER_SIGNING_KEY``; only the
sealer reads it. The public key (SubjectPublicKeyInfo PEM) is what auditors are given.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)


class SigningKeyError(Exception):
    """A key file is missing, unreadable or not an Ed25519 key."""


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def write_new_private_key(path: Path) -> Ed25519PublicKey:
    """Create a new key in a new file (mode 0600); refuses to overwrite an existing file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{path} exists; a signing key is never overwritten") from None
    except OSError as error:
        raise SigningKeyError(f"cannot create {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    return key.public_key()


def ensure_private_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The key in ``path``, created there (mode 0600) on first use: (key, created).

    An existing file is only ever read, never overwritten. The key is written to a
    temporary file first and linked into place, so a reader never sees half a key and
    two processes starting at once both end up with the one key linked first."""
    if path.exists():
        return load_private_key(path), False
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    write_new_private_key(temporary)
    try:
        os.link(temporary, path)
        created = True
    except FileExistsError:
        created = False
    except OSError as error:
        raise SigningKeyError(f"cannot create {path}: {error.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return load_private_key(path), created


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SigningKeyError(f"cannot read the {what} {path}: {error.strerror}") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(_read(path, "signing key"), password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(_read(path, "public key"))
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{path} is not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path} is not an Ed25519 public key")
    return key
