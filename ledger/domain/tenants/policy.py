"""The rules a tenant's consent is decided by: keywords, request window, purposes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from uuid import UUID

from ledger.domain.keywords import KeywordRules, Match
from ledger.domain.tenants.burst_guard import BurstGuard
from ledger.domain.tenants.buttons import ButtonMapping, match_button
from ledger.domain.tenants.first_message import FirstMessageRequest
from ledger.domain.tenants.reply_texts import ReplyTexts

DEFAULT_REQUEST_WINDOW = timedelta(hours=24)
DEFAULT_KEYWORD_PURPOSES = ("marketing",)


@dataclass(frozen=True)
class TenantPolicy:
    rules: KeywordRules = field(default_factory=KeywordRules)
    request_window: timedelta = DEFAULT_REQUEST_WINDOW
    # Purposes an opt-in keyword (START, JOIN…) grants when no request is pending and the
    # subject has no purposes on record yet; otherwise it restores the purposes on record.
    keyword_purposes: tuple[str, ...] = DEFAULT_KEYWORD_PURPOSES
    # Button payload ids the tenant mapped to actions (ledger/tenants/buttons.py).
    buttons: Mapping[str, ButtonMapping] = field(default_factory=lambda: MappingProxyType({}))
    # What the ledger answers the person (confirmations, help, rejection reply).
    texts: ReplyTexts = field(default_factory=ReplyTexts)
    # The opt-in request a new subject's first unmatched message gets (None: off).
    first_message: FirstMessageRequest | None = None
    # Capture methods of the tenant's own, beside the built-in ones.
    capture_methods: frozenset[str] = frozenset()
    # Months a grant of each purpose stays in force without a renewal (none: never lapses).
    lapse_months: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # When a spike of gateway opt-outs is held for review instead of recorded.
    burst_guard: BurstGuard = field(default_factory=BurstGuard)
    # The version of the tenant's settings this policy comes from (0: built-in defaults)
    # and the event that made it; classified events name the version in their evidence.
    version: int = 0
    event_id: UUID | None = None
    # What an opt-out sent to one sender withdraws (ledger/domain/sender_scope.py).
    opt_out_scope: str = "channel"

    def button_match(self, payload: str, *, pending: bool) -> Match | None:
        return match_button(self.buttons, payload, pending=pending)
