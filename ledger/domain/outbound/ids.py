"""Outbound message ids: deterministic, and echoed back by the gateways.

``<kind>.<subject id hex>.<reference hex>``: the reference is the event the message
follows (the ``OptInRequested``, or the change a confirmation confirms), or for a help
reply a UUIDv5 of the inbound message id. One event has at most one message of a kind,
so the id is the same however often it is computed, and a status that echoes it back
names the subject and the event without a lookup. Senders pass it as
``biz_opaque_callback_data`` (WhatsApp Cloud API) or as the ``outbound_id`` query
parameter of Twilio's ``StatusCallback`` URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID, uuid5

HELP_NAMESPACE = UUID("9d3e6a41-27c5-5b8f-a0d4-6e2f1b7c9a58")


class OutboundKind(StrEnum):
    OPT_IN_REQUEST = "opt_in_request"
    CONFIRMATION = "confirmation"
    HELP = "help"
    # Not a message to send: a notice that a request could not reach the person on its
    # channel, with the channel to try instead (the agent's "send an SMS instead?").
    FALLBACK = "fallback"


_CODES = {
    OutboundKind.OPT_IN_REQUEST: "req",
    OutboundKind.CONFIRMATION: "cnf",
    OutboundKind.HELP: "hlp",
    OutboundKind.FALLBACK: "fbk",
}
_KINDS = {code: kind for kind, code in _CODES.items()}


@dataclass(frozen=True)
class OutboundRef:
    kind: OutboundKind
    subject_id: UUID
    ref: UUID  # the event it follows (help: derived from the inbound message id)

    @property
    def id(self) -> str:
        return f"{_CODES[self.kind]}.{self.subject_id.hex}.{self.ref.hex}"


def help_ref(tenant: str, message_id: str) -> UUID:
    return uuid5(HELP_NAMESPACE, f"{tenant}\x1f{message_id}")


def parse_outbound_id(text: str | None) -> OutboundRef | None:
    """The reference an echoed id names, or None if it is not one of ours."""
    if not text:
        return None
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] not in _KINDS or not all(len(p) == 32 for p in parts[1:]):
        return None
    try:
        return OutboundRef(_KINDS[parts[0]], UUID(hex=parts[1]), UUID(hex=parts[2]))
    except ValueError:
        return None
