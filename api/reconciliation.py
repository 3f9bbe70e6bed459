"""Drift with a gateway: compare its opt-out list with the ledger.

Gateways keep opt-out lists of their own (Twilio's STOP list, Meta's marketing
preferences, Gupshup's opt-outs, Glific's opt-in field), and they drift from the ledger:
a STOP handled by the gateway whose webhook was lost, an opt-out recorded here that was
never pushed there. ``reconcile`` takes the gateway's exported list (one ``address`` per
row) and answers:

* ``missing_in_ledger``: on the gateway's list, yet the ledger's channel-wide status is
  not opted out (nor erased, nor held). With ``record``, each becomes a gateway opt-out
  (a provider signal, idempotent per list and address), so the tenant's burst guard
  holds a suspicious list for review instead of recording thousands of opt-outs;
* ``missing_at_gateway``: opted out of everything here, absent from the gateway's list
  (the business should push these to the gateway; nothing is recorded);
* ``in_agreement`` and the ``invalid`` rows.

It reads ``consent_status`` (the caller waits for or catches it up first) and records
through the ledger's own signal recorder.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ledger.application.signals.recorder import SignalRecorder
from ledger.domain.addresses import parse_channel
from ledger.domain.commands import CaptureMethod, Evidence, Source
from ledger.domain.consent_status import ALL_PURPOSES, Status
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.signals.reports import ProviderSignal, SignalAction
from ledger.domain.subjects import resolve_subject
from ledger.domain.times import utc_now
from ledger.domain.validation import SOURCE_KIND_PATTERN, check_text
from projections.consent_status.queries import ConsentQueries

# A gateway's list agrees with these channel-wide statuses: nothing reaches the person.
AGREES = frozenset({Status.OPTED_OUT.value, Status.ERASED.value, Status.HELD.value})
MAX_LISTED = 10_000  # addresses shown per difference; the counts are always complete
MAX_LIST_ID = 64


@dataclass(frozen=True)
class GatewayList:
    tenant: str
    channel: str
    gateway: str
    list_id: str  # names this export (a date…): a re-run of the same list records once
    recorded_by: str | None = None


@dataclass
class Difference:
    count: int = 0
    addresses: list[str] = field(default_factory=list)

    def add(self, address: str) -> None:
        self.count += 1
        if len(self.addresses) < MAX_LISTED:
            self.addresses.append(address)


@dataclass
class DriftReport:
    gateway: str
    channel: str
    listed: int = 0
    in_agreement: int = 0
    invalid: list[dict[str, Any]] = field(default_factory=list)
    missing_in_ledger: Difference = field(default_factory=Difference)
    missing_at_gateway: Difference = field(default_factory=Difference)
    recorded: int = 0
    held: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "gateway": self.gateway,
            "channel": self.channel,
            "listed": self.listed,
            "in_agreement": self.in_agreement,
            "invalid": self.invalid[:MAX_LISTED],
            "missing_in_ledger": self.missing_in_ledger.__dict__,
            "missing_at_gateway": self.missing_at_gateway.__dict__,
            "recorded": self.recorded,
            "held": self.held,
            "duplicates": self.duplicates,
        }


def check_list(gateway_list: GatewayList) -> GatewayList:
    parse_channel(gateway_list.channel)
    if not SOURCE_KIND_PATTERN.match(gateway_list.gateway):
        raise InvalidInput(
            "the gateway must be a lowercase identifier (twilio, whatsapp, gupshup…)",
            field="gateway",
            code="invalid_gateway",
        )
    check_text(gateway_list.list_id, field="list_id", limit=MAX_LIST_ID)
    if not gateway_list.list_id:
        raise InvalidInput("a list id is required", field="list_id")
    return gateway_list


def read_addresses(lines: Iterable[str]) -> list[tuple[int, str]]:
    """(line, address) of every row of a CSV with an ``address`` column."""
    reader = csv.DictReader(lines)
    if "address" not in (reader.fieldnames or ()):
        raise InvalidInput(
            "the CSV header lacks the column address", field="header", code="invalid_csv"
        )
    return [(line, (row.get("address") or "").strip()) for line, row in enumerate(reader, 2)]


def reconcile(
    queries: ConsentQueries,
    signals: SignalRecorder,
    gateway_list: GatewayList,
    rows: list[tuple[int, str]],
    *,
    record: bool,
) -> DriftReport:
    listed = check_list(gateway_list)
    channel = parse_channel(listed.channel).value
    report = DriftReport(gateway=listed.gateway, channel=channel, listed=len(rows))
    on_list: set[str] = set()
    normalised: list[str] = []
    for line, address in rows:
        try:
            subject = resolve_subject(listed.tenant, channel, address)
        except LedgerError as error:
            report.invalid.append({"row": line, "code": error.code, "message": error.message})
            continue
        if subject.address not in on_list:
            on_list.add(subject.address)
            normalised.append(subject.address)
    answers = queries.eligibility(listed.tenant, channel, ALL_PURPOSES, normalised)
    for address, answer in zip(normalised, answers, strict=True):
        if answer.status in AGREES:
            report.in_agreement += 1
            continue
        report.missing_in_ledger.add(address)
        if record:
            _record(signals, listed, channel, address, report)
    for row in queries.suppressions(listed.tenant, channel):
        withdrawn = row.purpose == ALL_PURPOSES and row.status == Status.OPTED_OUT.value
        if withdrawn and row.address is not None and row.address not in on_list:
            report.missing_at_gateway.add(row.address)
    return report


def _record(
    signals: SignalRecorder, listed: GatewayList, channel: str, address: str, report: DriftReport
) -> None:
    outcome = signals.record_signal(
        ProviderSignal(
            tenant=listed.tenant,
            channel=channel,
            address=address,
            action=SignalAction.OPTED_OUT,
            occurred_at=utc_now(),
            source=Source(f"{listed.gateway}_opt_out_list", f"{listed.list_id}:{address}"),
            evidence=Evidence(
                method=CaptureMethod.PROVIDER_SIGNAL,
                gateway=listed.gateway,
                gateway_status="opt_out_list",
                recorded_by=listed.recorded_by,
            ),
            unless_in_force=True,
        )
    )
    answer = outcome.recorded
    if outcome.outcome == "duplicate":
        report.duplicates += 1
    elif answer is not None and answer.type == "opt_out_held":
        report.held += 1
    elif answer is not None:
        report.recorded += 1
