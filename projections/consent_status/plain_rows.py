"""Writing subjects folded by ``plain_fold.py`` into a rebuild's empty copy, by COPY.

The rows are the ones ``table.py`` writes for the same subjects (``rows.py`` and the
engine's subjects table); the clear address is read as the engine reads it: from the
first event whose personal data opens under the subject's data key.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from ledger.crypto.encryption import DecryptionFailed, decrypt
from projections.consent_status.plain_fold import PlainSubject
from projections.consent_status.table import ConsentStatusModel
from projections.database import Cursor

STATUS_COLUMNS = (
    "subject_id, purpose, tenant, channel, address, status, since, event_id, method, keyword, "
    "version, position"
)
SUBJECT_COLUMNS = "subject_id, tenant, channel, address, version, position, state"


def address_of(subject: PlainSubject, key: bytes | None) -> str | None:
    """The subject's clear address: None without a key or an event that discloses it."""
    if key is None:
        return None
    for event_id, blob in subject.personal:
        try:
            disclosures = decrypt(key, UUID(bytes=event_id), blob)
        except DecryptionFailed:
            continue
        address = next((d.value for d in disclosures if d.field == "address"), None)
        if address is not None:
            return address
    return None


def copy_subjects(
    cursor: Cursor,
    model: ConsentStatusModel,
    subjects_table: str,
    folded: Sequence[tuple[UUID, PlainSubject]],
    keys: dict[UUID, bytes],
) -> None:
    """COPY the subjects' states and status rows (no sender rows: a plain fold has none)."""
    raw = cursor.raw
    addresses = [address_of(subject, keys.get(sid)) for sid, subject in folded]
    with raw.copy(f"COPY {subjects_table} ({SUBJECT_COLUMNS}) FROM STDIN") as copy:
        for (sid, s), address in zip(folded, addresses, strict=True):
            copy.write_row((sid, s.tenant, s.channel, address, s.version, s.position, s.state))
    with raw.copy(f"COPY {model.t('consent_status')} ({STATUS_COLUMNS}) FROM STDIN") as copy:
        for (sid, s), address in zip(folded, addresses, strict=True):
            for purpose, st in s.statuses:
                copy.write_row(
                    (sid, purpose, s.tenant, s.channel, address, st[0], st[1], st[2], st[4],
                     st[5], st[3], s.position)
                )  # fmt: skip
