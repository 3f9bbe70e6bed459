"""What the ledger answers a person, per tenant: confirmations, help, rejection reply.

Confirmations are transactional, never marketing: one after a change of consent the
person made by message (at most one per change), none when nothing changed. An empty
text turns that reply off (e.g. when the gateway sends its own, as Twilio's Advanced
Opt-Out does).

A withdrawal's confirmation says what was withdrawn: ``opted_out`` after a plain STOP
(every purpose), ``opted_out_purposes`` after a scoped one ("stop promotions"), where
``{purposes}`` stands for the purposes withdrawn ("marketing", "marketing and offers").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from ledger.domain.errors import InvalidInput

MAX_REPLY = 1024

DEFAULT_OPTED_OUT = (
    "You are unsubscribed and will get no more messages from us. Reply START to subscribe again."
)
DEFAULT_OPTED_OUT_PURPOSES = (
    "You will get no more {purposes} messages from us. Other messages you agreed to "
    "continue; reply STOP to stop them all."
)
PURPOSES_PLACEHOLDER = "{purposes}"
DEFAULT_OPTED_IN = "You are subscribed. Reply STOP at any time to unsubscribe."
DEFAULT_REJECTED = (
    "No problem, we will not send you these messages. "
    "You can answer YES any time if you change your mind."
)
DEFAULT_HELP = "Reply STOP to unsubscribe or START to subscribe. Msg&data rates may apply."


@dataclass(frozen=True)
class ReplyTexts:
    opted_out: str = DEFAULT_OPTED_OUT  # after an opt-out of every purpose (STOP)
    # after an opt-out of named purposes ("stop promotions"); {purposes} names them
    opted_out_purposes: str = DEFAULT_OPTED_OUT_PURPOSES
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
        """Texts as stored. Settings stored before scoped confirmations existed used
        ``opted_out`` for every withdrawal: a text the tenant chose (or turned off with
        "") keeps doing so, so an old settings event means what it meant."""
        chosen = data.get("opted_out", DEFAULT_OPTED_OUT)
        if "opted_out_purposes" not in data and chosen != DEFAULT_OPTED_OUT:
            data = {**data, "opted_out_purposes": chosen}
        return cls().updated(data)

    def withdrawal(self, purposes: Sequence[str], *, all_purposes: bool) -> str:
        """The confirmation text of an opt-out ("" when that reply is off)."""
        if all_purposes or not purposes:
            return self.opted_out
        return self.opted_out_purposes.replace(PURPOSES_PLACEHOLDER, name_list(purposes))


def name_list(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: purposes as a sentence names them."""
    shown = [name.replace("_", " ") for name in names]
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"
