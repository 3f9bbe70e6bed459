"""``GatewayIntake``: records every item of one gateway callback, one unit each.

A callback may carry several messages and statuses. Each is recorded on its own and is
idempotent by its source id, so when the database fails half-way the items recorded so
far stay recorded, the caller answers 5xx, and the gateway's retry records the rest
while the others come back as duplicates. Items the ledger deliberately does not record
(an unknown message type, a status it cannot link, a rule that does not apply) count
as ignored; the gateway gets 200 and does not retry them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.signals.recorder import SignalOutcome, SignalRecorder
from ledger.domain.commands import ReceiveMessage
from ledger.domain.errors import LedgerError, Unavailable
from ledger.domain.signals.reports import DeliveryReport, ProviderSignal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ignored:
    """An item of a callback the ledger does not record, and why (for the logs)."""

    reason: str


GatewayItem = ReceiveMessage | ProviderSignal | DeliveryReport | Ignored


@dataclass
class IntakeReport:
    counts: Counter[str] = field(default_factory=Counter)
    failure: Unavailable | None = None

    @property
    def summary(self) -> dict[str, int]:
        return {
            "recorded": self.counts["recorded"],
            "duplicates": self.counts["duplicate"],
            "ignored": sum(n for k, n in self.counts.items() if k not in ("recorded", "duplicate")),
        }


class GatewayIntake:
    def __init__(self, ledger: ConsentLedger, signals: SignalRecorder) -> None:
        self.ledger = ledger
        self.signals = signals

    def accept(self, gateway: str, tenant: str, items: Sequence[GatewayItem]) -> IntakeReport:
        report = IntakeReport()
        for index, item in enumerate(items):
            try:
                outcome = self._one(item)
            except Unavailable as failure:
                report.failure = failure
                log.error(
                    "gateway callback partly recorded; the gateway will retry",
                    extra={"gateway": gateway, "tenant": tenant, "item": index, **report.summary},
                )
                return report
            except LedgerError as refused:  # e.g. a source id reused for another person
                outcome = f"refused:{refused.code}"
                context = {"gateway": gateway, "tenant": tenant, "item": index}
                log.warning("gateway item refused", extra={**context, "code": refused.code})
            report.counts[outcome] += 1
        log.info("gateway callback", extra={"gateway": gateway, "tenant": tenant, **report.summary})
        return report

    def _one(self, item: GatewayItem) -> str:
        if isinstance(item, Ignored):
            return f"ignored:{item.reason}"
        if isinstance(item, ReceiveMessage):
            outcome = self.ledger.receive_message(item)
            if outcome.recorded is None:
                return f"ignored:{outcome.action}"
            return "duplicate" if outcome.recorded.duplicate else "recorded"
        result: SignalOutcome
        if isinstance(item, ProviderSignal):
            result = self.signals.record_signal(item)
        else:
            result = self.signals.record_delivery(item)
        if result.outcome in ("recorded", "duplicate"):
            return result.outcome
        return f"ignored:{result.outcome}"
