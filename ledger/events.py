"""The consent events: immutable facts in a subject's history.

Stored class paths (``ledger.events:OptedOut``) and field names are a schema: they are
never renamed; a changed shape gets a new ``class_version`` and an upcaster.

Every event carries what an auditor needs to trust it: when it happened at the source
(``occurred_at``) and when the ledger recorded it (``timestamp``, shown as
``recorded_at``), the source that reported it, the evidence of how consent was captured,
salted commitments to the personal data (the data itself is sealed in
``personal_data``, outside the hashed part), and the hash chain (``prev_hash``, ``hash``).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import DomainEvent

from ledger.domain.times import format_time

# The ``prev_hash`` of a chain's first event.
GENESIS_HASH = "0" * 64
# Fields of the stored event that are not part of the hashed document.
UNHASHED_FIELDS = frozenset({"hash", "personal_data"})
# Library field names and the names the public document uses for them.
RENAMED_FIELDS = {
    "originator_id": "subject_id",
    "originator_version": "version",
    "timestamp": "recorded_at",
}


@dataclass(frozen=True)
class LedgerEvent(DomainEvent):
    """An event in a subject's hash chain."""

    type_name: ClassVar[str] = ""
    # Whether every object in the event's document has keys the code chose (ASCII, no
    # floats), so canonical JSON may skip checking for them; a tenant's settings carry
    # keys of the tenant's choosing.
    fixed_keys: ClassVar[bool] = False

    event_id: UUID
    tenant: str
    channel: str
    prev_hash: str
    hash: str

    def document(self) -> dict[str, Any]:
        """The event as hashed and as shown to auditors: JSON values, public names."""
        return document_of(type(self), self.__dict__)


@dataclass(frozen=True)
class ConsentEvent(LedgerEvent):
    """An event that tells something about the person's consent."""

    fixed_keys = True
    occurred_at: datetime
    purposes: list[str]
    all_purposes: bool
    request_id: UUID | None
    source: dict[str, str]
    evidence: dict[str, Any]
    commitments: dict[str, str]
    personal_data: str


@dataclass(frozen=True)
class OptInRequested(ConsentEvent):
    """The business asked the person for consent (template or notice shown)."""

    type_name = "opt_in_requested"
    expires_at: datetime


@dataclass(frozen=True)
class OptInAccepted(ConsentEvent):
    type_name = "opt_in_accepted"


@dataclass(frozen=True)
class OptInRejected(ConsentEvent):
    type_name = "opt_in_rejected"


@dataclass(frozen=True)
class OptInRequestExpired(ConsentEvent):
    """No answer came within the request window."""

    type_name = "opt_in_request_expired"


@dataclass(frozen=True)
class OptInRequestUndeliverable(ConsentEvent):
    """The request could not reach the person (e.g. the number is not on WhatsApp)."""

    type_name = "opt_in_request_undeliverable"


@dataclass(frozen=True)
class OptedOut(ConsentEvent):
    """The person withdrew consent: for the purposes named, or all (``all_purposes``)."""

    type_name = "opted_out"


@dataclass(frozen=True)
class OptedIn(ConsentEvent):
    """The person gave consent outside a request (keyword, form, import, re-opt-in)."""

    type_name = "opted_in"


@dataclass(frozen=True)
class ConfirmationSent(ConsentEvent):
    """The confirmation of a change of consent was sent to the person."""

    type_name = "confirmation_sent"


@dataclass(frozen=True)
class PersonalDataErased(LedgerEvent):
    """The subject's data key was destroyed (crypto-shredding).

    The history, its hashes and proofs stay intact; the personal data sealed in earlier
    events can no longer be opened, and read models drop their clear copies.
    """

    type_name = "personal_data_erased"
    fixed_keys = True
    reason: str
    requested_by: str | None


# Fixed forever: a tenant's chain of campaign receipts is a UUIDv5 of the tenant's name.
CAMPAIGN_RECEIPTS_NAMESPACE = UUID("9d3f6a2c-1b7e-5c48-a0d9-3e5f7b1c2a64")


def campaign_receipts_id(tenant: str) -> UUID:
    """The id of the tenant's chain of campaign receipts."""
    return uuid5(CAMPAIGN_RECEIPTS_NAMESPACE, tenant)


@dataclass(frozen=True)
class CampaignReceiptRecorded(LedgerEvent):
    """A campaign's final list for one send, as the Merkle root of its sorted subject ids.

    Appended to the tenant's chain of receipts (``campaign_receipts_id``), never to a
    subject's: the list holds subject ids only, no address; ``as_of_position`` is the
    ledger position the list was computed at (the ``X-Ledger-Position`` of the answer).
    """

    type_name = "campaign_receipt_recorded"
    fixed_keys = True
    campaign_id: str
    purpose: str
    as_of_position: int
    count: int
    root: str  # hex SHA-256, RFC 6962 tree over the sorted subject ids
    recorded_by: str | None  # API key id


@dataclass(frozen=True)
class ConsentInvalidated(ConsentEvent):
    """The consent on record no longer speaks for whoever holds the address now.

    The number was reassigned to someone else or disconnected (``reason``); every purpose
    ends until a new opt-in that occurred after it. ``number_check`` is the evidence:
    which data source said so (``data_source``), when it was asked (``queried_at``) and
    what it answered (``result``).
    """

    type_name = "consent_invalidated"
    reason: str
    number_check: dict[str, str]


@dataclass(frozen=True)
class ConsentLapsed(ConsentEvent):
    """A grant reached the age the tenant's policy allows for its purposes (``months``
    since the grant or renewal of ``granted_at``) without a renewal: it lapsed.

    Not ``opt_in_request_expired``, which is a request nobody answered.
    """

    type_name = "consent_lapsed"
    granted_at: datetime
    months: int


@dataclass(frozen=True)
class OptOutHeld(ConsentEvent):
    """A gateway's opt-out arrived in an unusual spike of them and is held for review.

    The subject gets no messages while held; an admin releases the hold (the opt-out is
    recorded as ``held_opt_out_released``) or dismisses it. ``burst`` is why: the
    tenant's limit, its window and how many provider opt-outs the window had seen.
    """

    type_name = "opt_out_held"
    burst: dict[str, int]


@dataclass(frozen=True)
class HeldOptOutReleased(ConsentEvent):
    """An admin released a held opt-out: the subject opted out as the gateway said, at
    the time the gateway said (``occurred_at``), for the purposes held."""

    type_name = "held_opt_out_released"
    hold_id: UUID


@dataclass(frozen=True)
class HeldOptOutDismissed(ConsentEvent):
    """An admin dismissed a held opt-out (e.g. a gateway's wrong error code): nothing
    changes but the hold ends."""

    type_name = "held_opt_out_dismissed"
    hold_id: UUID


CONSENT_EVENT_TYPES: dict[str, type[ConsentEvent]] = {
    cls.type_name: cls
    for cls in (
        OptInRequested,
        OptInAccepted,
        OptInRejected,
        OptInRequestExpired,
        OptInRequestUndeliverable,
        OptedOut,
        OptedIn,
        ConfirmationSent,
        ConsentInvalidated,
    )
}


def document_of(cls: type[LedgerEvent], values: dict[str, Any]) -> dict[str, Any]:
    """The hashed document of an event of ``cls`` with these field values.

    The hash chain (``ledger.crypto.chain``) computes it from the values before the event
    exists; ``document()`` from the event: one function, so the two can never disagree.
    """
    doc: dict[str, Any] = {"type": cls.type_name}
    for name, public in _hashed_fields(cls):
        value = values[name]
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None or kind is dict:
            # Objects (source, evidence, commitments, settings) hold JSON values only.
            doc[public] = value
        elif kind is UUID:
            doc[public] = str(value)
        else:
            doc[public] = _json_value(value)
    return doc


@functools.cache
def _hashed_fields(cls: type[LedgerEvent]) -> tuple[tuple[str, str], ...]:
    """(field name, public name) of every hashed field of ``cls``, in declaration order."""
    return tuple(
        (field.name, RENAMED_FIELDS.get(field.name, field.name))
        for field in dataclasses.fields(cls)
        if field.name not in UNHASHED_FIELDS
    )


def _json_value(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is UUID:
        return str(value)
    if kind is dict:
        return {k: _json_value(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_json_value(v) for v in value]
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, UUID):
        return str(value)
    return value


# Events the ledger decides itself (never reported through ``POST /v1/events``), that a
# subject's fold reads like the consent events.
LIFECYCLE_EVENT_TYPES: dict[str, type[ConsentEvent]] = {
    cls.type_name: cls
    for cls in (ConsentLapsed, OptOutHeld, HeldOptOutReleased, HeldOptOutDismissed)
}
