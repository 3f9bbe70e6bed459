"""Erasure of a subject's personal data by crypto-shredding.

``PersonalDataErased`` is recorded in the subject's hash chain and the subject's data
key is destroyed in the same transaction: every hash, chain and proof stays intact (the
events hold only commitments), and the encrypted personal values can never be opened again.
Read models drop their clear copies when they apply the event.

Erasing twice records nothing new while no personal data came in since: the answer is
the earlier erasure. A subject who writes again after an erasure gets a new key, and a
new erasure destroys that one.
"""

from __future__ import annotations

import logging
import re
from uuid import UUID

from ledger.application.core import LedgerCore
from ledger.crypto.chain import ChainHead, link
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.records import Recorded
from ledger.domain.subjects import SubjectRef, resolve_subject
from ledger.events import PersonalDataErased
from ledger.persistence.store import RowsBeside

log = logging.getLogger(__name__)

# The reason is stored in clear in the hash chain forever, so it is a short code
# ("gdpr_art17", "user_request"), never free text that could carry personal data.
REASON_PATTERN = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
DEFAULT_REASON = "erasure_requested"


class NothingToErase(LedgerError):
    """The subject has no events, so the ledger holds no personal data of it."""

    code = "subject_not_found"


def erase_personal_data(
    ledger: LedgerCore,
    tenant: str,
    channel: str,
    address: str,
    *,
    reason: str = DEFAULT_REASON,
    requested_by: str | None = None,
) -> Recorded:
    """Record ``PersonalDataErased`` and destroy the subject's data key, in one transaction."""
    subject = resolve_subject(tenant, channel, address)
    if not REASON_PATTERN.match(reason):
        raise InvalidInput(
            "reason must be a short code (1-64 lowercase letters, digits, '_', '.', ':' or "
            "'-', starting with a letter), never free text: it is kept in the hash chain",
            field="reason",
        )
    return ledger.retry.run(
        lambda: _erase_once(ledger, subject, reason, requested_by),
        outcome="nothing was erased",
    )


def _erase_once(
    ledger: LedgerCore, subject: SubjectRef, reason: str, requested_by: str | None
) -> Recorded:
    sid = subject.id
    state = ledger.load_states({sid: (subject.tenant, subject.channel.value)})[sid]
    if state.version == 0:
        raise NothingToErase("the ledger holds no events of this subject", field="address")
    has_key = sid in ledger.store.data_keys([sid])
    if not has_key:
        earlier = _last_erasure(ledger, sid)
        if earlier is not None:
            return earlier
    event = link(
        PersonalDataErased,
        ChainHead.of(state),
        recorded_at=ledger.clock(),
        reason=reason,
        requested_by=requested_by,
    )
    [position] = ledger.append(event, beside=RowsBeside(erase_keys=[sid]))
    log.info(
        "personal data erased",
        extra={"tenant": subject.tenant, "subject_id": str(sid), "position": position},
    )
    return Recorded(
        subject_id=sid,
        event_id=event.event_id,
        type=event.type_name,
        version=event.originator_version,
        position=position,
    )


def _last_erasure(ledger: LedgerCore, subject_id: UUID) -> Recorded | None:
    """The latest erasure of the subject, if no personal data was recorded after it."""
    positioned = ledger.store.select_positioned(subject_id)
    for item in reversed(positioned):
        event = ledger.ledger_event(item.stored)
        if isinstance(event, PersonalDataErased):
            return Recorded(
                subject_id=subject_id,
                event_id=event.event_id,
                type=event.type_name,
                version=event.originator_version,
                position=item.position,
                duplicate=True,
            )
        if getattr(event, "personal_data", ""):
            return None
    return None
