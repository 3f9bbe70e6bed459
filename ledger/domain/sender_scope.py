"""Sender scope: whether an opt-out withdraws consent from one business sender or the
whole channel.

A tenant may message people from several senders (WhatsApp phone number ids, SMS short
codes or Messaging Services, brands). Its ``opt_out_scope`` setting decides what an
opt-out sent to one of them means: ``channel`` (the default, the safer choice) withdraws
consent on the whole channel, as always; ``sender`` withdraws it from that sender only.
The scope in force is written into the opt-out's evidence (``opt_out_scope``), so a
later change of the setting never changes what a recorded opt-out meant.
"""

from __future__ import annotations

from dataclasses import replace

from ledger.domain.drafts import Draft
from ledger.domain.errors import InvalidInput
from ledger.events import OptedOut

CHANNEL = "channel"
SENDER = "sender"
SCOPES = (CHANNEL, SENDER)


def parse_scope(value: str) -> str:
    if value not in SCOPES:
        raise InvalidInput(f"the opt-out scope is one of {', '.join(SCOPES)}", field="scope")
    return value


def scope_opt_outs(drafts: list[Draft], scope: str) -> list[Draft]:
    """``drafts`` with each opt-out that names a sender scoped to it when ``scope`` is
    ``sender``; unchanged otherwise."""
    if scope != SENDER:
        return drafts
    return [
        replace(d, evidence=replace(d.evidence, opt_out_scope=SENDER))
        if d.cls is OptedOut and d.evidence.sender
        else d
        for d in drafts
    ]
