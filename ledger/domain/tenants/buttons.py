"""Button payload ids a tenant maps to consent actions.

WhatsApp reply buttons, list rows and template quick replies carry an id (payload) the
business chose when it sent the message. A tenant maps those ids to actions; a payload
it did not map falls back to the keyword rules on the button's text.

Actions follow the keyword semantics: ``accept`` (and ``opt_in``) accept a pending
request and are an explicit opt-in otherwise; ``reject`` rejects a pending request and
is an explicit opt-out otherwise (an answer is never dropped); ``opt_out`` withdraws
the purposes it names, or every purpose when it names none; ``help`` asks for help.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ledger.domain.errors import InvalidInput
from ledger.domain.keywords import Intent, Match, MatchKind
from ledger.domain.validation import MAX_SHORT, check_purposes

MAX_BUTTONS = 200


class ButtonAction(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    HELP = "help"


@dataclass(frozen=True)
class ButtonMapping:
    action: ButtonAction
    purposes: tuple[str, ...] = ()  # for opt_out: the purposes withdrawn (none: all)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action.value, "purposes": list(self.purposes)}


def match_button(
    buttons: Mapping[str, ButtonMapping], payload: str, *, pending: bool
) -> Match | None:
    """The meaning of a button payload the tenant mapped, or None if it did not."""
    mapping = buttons.get(payload)
    if mapping is None:
        return None
    action = mapping.action
    if action is ButtonAction.OPT_OUT:
        scoped = mapping.purposes or None
        return Match(Intent.OPT_OUT, None, MatchKind.BUTTON, scoped)
    if action is ButtonAction.HELP:
        return Match(Intent.HELP, None, MatchKind.BUTTON)
    if action is ButtonAction.REJECT:
        return Match(Intent.REJECT if pending else Intent.OPT_OUT, None, MatchKind.BUTTON)
    return Match(Intent.ACCEPT if pending else Intent.OPT_IN, None, MatchKind.BUTTON)


def parse_buttons(data: Mapping[str, Any], *, field: str = "buttons") -> dict[str, ButtonMapping]:
    """Buttons as given in settings: ``{"id": "accept"}`` or ``{"id": {"action", "purposes"}}``."""
    if len(data) > MAX_BUTTONS:
        raise InvalidInput(f"at most {MAX_BUTTONS} buttons", field=field)
    result: dict[str, ButtonMapping] = {}
    for payload, value in data.items():
        where = f"{field}.{payload}"
        if not payload or len(payload) > MAX_SHORT:
            raise InvalidInput(f"a payload id is 1-{MAX_SHORT} characters", field=where)
        raw = value if isinstance(value, Mapping) else {"action": value}
        try:
            action = ButtonAction(str(raw.get("action")))
        except ValueError:
            known = ", ".join(a.value for a in ButtonAction)
            raise InvalidInput(
                f"unknown button action {raw.get('action')!r}; known: {known}",
                field=f"{where}.action",
                code="invalid_button",
            ) from None
        purposes = check_purposes(raw.get("purposes") or (), field=f"{where}.purposes")
        if purposes and action is not ButtonAction.OPT_OUT:
            raise InvalidInput("only an opt_out button names purposes", field=f"{where}.purposes")
        result[payload] = ButtonMapping(action, purposes)
    return result
