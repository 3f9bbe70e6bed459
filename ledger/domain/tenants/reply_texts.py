"""What the ledger answers a person, per tenant: confirmations, help, rejection reply.

Confirmations are transactional, never marketing: one after a change of consent the
person made by message (at most one per change), none when nothing changed. An empty
text turns that reply off (e.g. when the gateway sends its own, as Twilio's Advanced
Opt-Out does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ledger.domain.errors import InvalidInput

MAX_REPLY = 1024

DEFAULT_OPTED_OUT = (
    "You are unsubscribed and will get no more messages from us. Reply START to subscribe again."
)
DEFAULT_OPTED_IN = "You are subscribed. Reply STOP at any time to unsubscribe."
DEFAULT_REJECTED = (
    "No problem, we will not send you these messages. "
    "You can answer YES any time if you change your mind."
)
DEFAULT_HELP = "Reply STOP to unsubscribe or START to subscribe. Msg&data rates may apply."


@dataclass(frozen=True)
class ReplyTexts:
    opted_out: str = DEFAULT_OPTED_OUT  # after an opt-out (STOP, a stop button)
    opted_in: str = DEFAULT_OPTED_IN  # after an opt-in or an accepted request
    rejected: str = DEFAULT_REJECTED  # after a rejected request: YES is always possible
    help: str = DEFAULT_HELP  # the answer to HELP, which changes nothing

    def to_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def updated(self, data: Mapping[str, Any], *, field: str = "texts") -> ReplyTexts:
        """These texts with the given ones replaced; unknown names are refused."""
        known = {f.name for f in fields(self)}
        changes: dict[str, str] = {}
        for name, value in data.items():
            if name not in known:
                raise InvalidInput(
                    f"unknown text {name!r}; known: {', '.join(sorted(known))}",
                    field=f"{field}.{name}",
                    code="unknown_field",
                )
            if not isinstance(value, str) or len(value) > MAX_REPLY:
                raise InvalidInput(
                    f"a text is a string of at most {MAX_REPLY} characters (empty: no reply)",
                    field=f"{field}.{name}",
                )
            changes[name] = value
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplyTexts:
        return cls().updated(data)
