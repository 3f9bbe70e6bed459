"""Writing subjects folded by ``plain_fold.py`` into a rebuild's empty copy, by COPY.

The rows are the ones ``table.py`` writes for the same subjects (``rows.py`` and the
engine's subjects table), sent as COPY's text format in one write per table; the clear
address is read as the engine reads it (``readable_disclosures``): from the first event
whose personal data opens under the subject's data key.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.crypto.encryption import NONCE_BYTES
from projections.consent_status.plain_fold import PlainSubject
from projections.consent_status.table import ConsentStatusModel
from projections.database import Cursor

STATUS_COLUMNS = (
    "subject_id, purpose, tenant, channel, address, status, since, event_id, method, keyword, "
    "version, position"
)
SUBJECT_COLUMNS = "subject_id, tenant, channel, address, version, position, state"
# COPY text format: these characters in a value are written with a backslash.
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_NULL = "\\N"


def address_of(subject: PlainSubject, key: bytes | None) -> str | None:
    """The subject's clear address: None without a key or an event that discloses it
    (``ledger.crypto.encryption.decrypt``, without building each disclosure)."""
    if key is None:
        return None
    cipher = AESGCM(key)
    for event_id, blob in subject.personal:
        raw = binascii.a2b_base64(blob)
        try:
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], event_id)
        except InvalidTag:
            continue  # encrypted under another (erased) key, or altered
        for disclosure in orjson.loads(plain):
            if disclosure["field"] == "address":
                return str(disclosure["value"])
    return None


def copy_subjects(
    cursor: Cursor,
    model: ConsentStatusModel,
    subjects_table: str,
    folded: Sequence[tuple[UUID, PlainSubject]],
    keys: dict[UUID, bytes],
) -> None:
    """COPY the subjects' states and status rows (no sender rows: a plain fold has none)."""
    subjects: list[str] = []
    statuses: list[str] = []
    for sid, s in folded:
        subject_id = str(sid)
        address = address_of(s, keys.get(sid))
        tenant, channel = _text(s.tenant), _text(s.channel)
        shown = _NULL if address is None else _text(address)
        tail = f"{s.position}\n"
        subjects.append(
            f"{subject_id}\t{tenant}\t{channel}\t{shown}\t{s.version}\t{s.position}\t"
            f"{_text(s.state)}\n"
        )
        for purpose, st in s.statuses:
            statuses.append(
                f"{subject_id}\t{_text(purpose)}\t{tenant}\t{channel}\t{shown}\t{st[0]}\t"
                f"{st[7]}\t{st[2]}\t{_maybe(st[4])}\t{_maybe(st[5])}\t{st[3]}\t{tail}"
            )
    raw = cursor.raw
    with raw.copy(f"COPY {subjects_table} ({SUBJECT_COLUMNS}) FROM STDIN") as copy:
        copy.write("".join(subjects))
    with raw.copy(f"COPY {model.t('consent_status')} ({STATUS_COLUMNS}) FROM STDIN") as copy:
        copy.write("".join(statuses))


def _text(value: str) -> str:
    return value.translate(_ESCAPES) if _needs_escape(value) else value


def _needs_escape(value: str) -> bool:
    return "\\" in value or "\n" in value or "\r" in value or "\t" in value


def _maybe(value: Any) -> str:
    return _NULL if value is None else _text(str(value))
