"""Bulk import of existing opt-ins and opt-outs (e.g. an export from another platform).

Each CSV row keeps its original timestamp and evidence. Rows are recorded in batches (one
transaction each); a bad row is rejected with its reason and never stops the others. An
import never overrides a newer opt-out: an imported opt-in older than the subject's last
opt-out of that purpose is rejected. Re-importing the same file is a no-op: a row without
a ``source_id`` gets one derived from its content.

An optional ``sender`` column names the business sender (as ``evidence.sender``); under
the tenant's ``sender`` opt-out scope an imported opt-out with one is scoped to it.

A ``consent_invalidated`` row (a reassigned or disconnected number) names its ``reason``
and the evidence: ``data_source``, ``queried_at`` and ``result`` columns.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.writer.work import Decision, ItemResult, WorkItem, recorded
from ledger.domain.commands import (
    CaptureMethod,
    Evidence,
    Notice,
    NumberCheck,
    RecordConsent,
    Source,
)
from ledger.domain.consent_status import Status, SubjectState
from ledger.domain.decisions import decide_record, refuse_before_erasure
from ledger.domain.drafts import Draft
from ledger.domain.errors import InvalidInput, LedgerError, RuleViolation
from ledger.domain.sender_scope import scope_opt_outs
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.times import format_time, parse_time
from ledger.domain.validation import check_method
from ledger.runtime.collector import Batches

REQUIRED_COLUMNS = ("channel", "address", "type", "occurred_at")
IMPORTABLE_TYPES = ("opted_in", "opted_out", "consent_invalidated")
BATCH_SIZE = 1000


@dataclass(frozen=True)
class Rejection:
    row: int  # line number in the file (the header is line 1)
    code: str
    message: str
    field: str | None = None


@dataclass
class ImportReport:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self, *, max_rejections: int | None = None) -> dict[str, Any]:
        shown = self.rejected if max_rejections is None else self.rejected[:max_rejections]
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected_count": len(self.rejected),
            "rejected": [r.__dict__ for r in shown],
        }


@dataclass(frozen=True)
class ParsedRow:
    line: int
    command: RecordConsent | None = None
    error: LedgerError | None = None


def parse_csv(
    lines: Iterable[str], *, tenant: str, recorded_by: str | None = None
) -> Iterator[ParsedRow]:
    """The rows of a CSV file; ``InvalidInput`` naming the row and column if the file
    itself cannot be read on (a cell past the csv module's limit, broken quoting)."""
    for line, row in csv_records(lines):
        yield parsed_row(line, row, tenant, recorded_by)


def parsed_row(
    line: int, row: dict[str, str | None], tenant: str, recorded_by: str | None
) -> ParsedRow:
    try:
        return ParsedRow(line=line, command=command_of_row(row, tenant, recorded_by))
    except LedgerError as error:
        return ParsedRow(line=line, error=error)


def csv_records(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Each record of a CSV file with its row number (the header is row 1), as the
    columns of the header name its cells; ``InvalidInput`` as ``parse_csv`` says."""
    record: list[str] = []  # the physical lines of the record being read

    def remembered() -> Iterator[str]:
        for line in lines:
            record.append(line)
            yield line

    reader = csv.DictReader(remembered())
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InvalidInput(
            f"the CSV header lacks the columns {', '.join(missing)}; it needs "
            f"{', '.join(REQUIRED_COLUMNS)}",
            field="header",
            code="invalid_csv",
        )
    columns = list(reader.fieldnames or ())
    index = 1
    while True:
        index += 1
        record.clear()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _unreadable(index, columns, "".join(record), str(error)) from None
        yield index, row


def check_csv(lines: Iterable[str]) -> int:
    """Read a whole CSV file without recording anything: its number of rows, or the
    ``InvalidInput`` ``parse_csv`` would raise part-way (so a caller that streams a large
    file can refuse it whole before storing its first batch)."""
    record: list[str] = []

    def remembered() -> Iterator[str]:
        for line in lines:
            record.append(line)
            yield line

    reader = csv.reader(remembered())
    columns = next(reader, [])
    rows = 0
    while True:
        record.clear()
        try:
            next(reader)
        except StopIteration:
            return rows
        except csv.Error as error:
            raise _unreadable(rows + 2, columns, "".join(record), str(error)) from None
        rows += 1


def _unreadable(row: int, columns: list[str], text: str, reason: str) -> InvalidInput:
    limit = csv.field_size_limit()
    if "field larger than field limit" not in reason:
        return InvalidInput(f"row {row}: {reason}", field=f"rows[{row}]", code="invalid_csv")
    at = _long_cell(text, limit)
    column = (columns[at] if at < len(columns) else f"column {at + 1}") if at is not None else None
    return InvalidInput(
        f"row {row}: the cell{f' {column!r}' if column else ''} is longer than {limit} characters",
        field=f"rows[{row}].{column}" if column else f"rows[{row}]",
        code="cell_too_long",
    )


def _long_cell(text: str, limit: int) -> int | None:
    """The index of the first cell of a CSV record longer than ``limit`` characters."""
    cell, length, quoted = 0, 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
            continue
        if char == "," and not quoted:
            cell, length = cell + 1, 0
            continue
        length += 1
        if length > limit:
            return cell
    return None


def command_of_row(
    row: dict[str, str | None], tenant: str, recorded_by: str | None
) -> RecordConsent:
    def cell(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    kind = cell("type") or ""
    if kind not in IMPORTABLE_TYPES:
        raise InvalidInput(
            f"type must be one of {', '.join(IMPORTABLE_TYPES)}", field="type", code="invalid_type"
        )
    try:
        occurred_at: datetime = parse_time(cell("occurred_at") or "")
    except ValueError:
        raise InvalidInput(
            "occurred_at must be an RFC 3339 time with a zone, e.g. 2024-03-01T10:00:00Z",
            field="occurred_at",
            code="invalid_time",
        ) from None
    purposes = tuple(
        p.strip() for p in (cell("purposes") or "").replace("|", ";").split(";") if p.strip()
    )
    notice = None
    if cell("notice_id"):
        notice = Notice(cell("notice_id") or "", cell("notice_version") or "", cell("notice_text"))
    source_id = cell("source_id") or _content_id(row)
    number_check = None
    if kind == "consent_invalidated":
        number_check = NumberCheck(
            data_source=cell("data_source") or "",
            queried_at=_time(cell("queried_at"), "queried_at"),
            result=cell("result") or "",
        )
    return RecordConsent(
        tenant=tenant,
        channel=cell("channel") or "",
        address=cell("address") or "",
        type=kind,
        purposes=purposes,
        occurred_at=occurred_at,
        source=Source(kind="import", id=source_id),
        contact_id=cell("contact_id"),
        evidence=Evidence(
            # Checked against the tenant's capture methods when the row is recorded.
            method=cell("method") or CaptureMethod.IMPORT.value,
            text=cell("text"),
            notice=notice,
            business_name=cell("business_name"),
            ip=cell("ip"),
            user_agent=cell("user_agent"),
            recorded_by=recorded_by,
            sender=cell("sender"),
        ),
        reason=cell("reason") if kind == "consent_invalidated" else None,
        number_check=number_check,
    )


def _time(text: str | None, name: str) -> datetime:
    try:
        return parse_time(text or "")
    except ValueError:
        raise InvalidInput(
            f"{name} must be an RFC 3339 time with a zone, e.g. 2024-03-01T10:00:00Z",
            field=name,
            code="invalid_time",
        ) from None


def _content_id(row: dict[str, str | None]) -> str:
    content = "\x1f".join(f"{k}={(v or '').strip()}" for k, v in sorted(row.items()) if k)
    return "row:" + hashlib.sha256(content.encode()).hexdigest()[:32]


def decide_import(
    state: SubjectState, command: RecordConsent, *, now: datetime, policy: TenantPolicy
) -> list[Draft]:
    """As ``decide_record``, but an opt-in older than a newer opt-out is refused, and so
    is any row that occurred before the subject's erasure: re-importing an erased number
    needs a new opt-in."""
    refuse_before_erasure(state, command.occurred_at, what="imported row")
    if command.type == "opted_in":
        for purpose in command.purposes:
            current = state.status_of(purpose)
            if (
                current is not None
                and current.status is Status.OPTED_OUT
                and current.since > command.occurred_at
            ):
                raise RuleViolation(
                    f"the subject opted out of {purpose} at {format_time(current.since)}, after "
                    "this opt-in; an import never overrides a newer opt-out",
                    field="occurred_at",
                    code="older_than_opt_out",
                )
    return decide_record(state, command, now=now, policy=policy)


def import_rows(
    ledger: ConsentLedger,
    rows: Iterable[ParsedRow],
    *,
    tenant: str,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Record the rows in batches; while one batch is stored the next is checked."""
    report = ImportReport()
    batch: list[ParsedRow] = []
    in_flight: _Submitted | None = None
    # A batch's rows, commands and work items live until it is stored: no automatic
    # collection while they are built and stored (one every few batches instead).
    with Batches() as batches:
        for row in rows:
            if report.rows % batch_size == 0:
                batches.started()
            report.rows += 1
            if row.command is None:
                report.rejected.append(_rejection(row.line, row.error))
                continue
            batch.append(row)
            if len(batch) >= batch_size:
                submitted = _submit(ledger, tenant, batch, report)
                if in_flight is not None:
                    in_flight.account(report)
                    if progress is not None:
                        progress(report)
                in_flight, batch = submitted, []
        if batch:
            submitted = _submit(ledger, tenant, batch, report)
            if in_flight is not None:
                in_flight.account(report)
            in_flight = submitted
        if in_flight is not None:
            in_flight.account(report)
    if progress is not None:
        progress(report)
    # By row, however late each was found (until here ``rejected`` is only appended to:
    # the processes of an import send what is new by position).
    report.rejected.sort(key=lambda r: r.row)
    return report


@dataclass
class _Submitted:
    """A batch handed to the writer: its rows' lines and the future of their results."""

    lines: list[int]
    results: Future[list[ItemResult]] | None

    def account(self, report: ImportReport) -> None:
        if self.results is None:
            return
        for line, result in zip(self.lines, self.results.result(), strict=True):
            if result.error is not None:
                report.rejected.append(_rejection(line, result.error))
            elif result.duplicate_of is not None:
                report.duplicates += 1
            elif recorded(result) is not None:
                report.accepted += 1


def _submit(
    ledger: ConsentLedger, tenant: str, batch: list[ParsedRow], report: ImportReport
) -> _Submitted:
    policy = ledger.policy_for(tenant)
    items: list[WorkItem] = []
    lines: list[int] = []
    for row in batch:
        if row.command is None:
            continue
        try:
            check_method(row.command.evidence.method, extra=policy.capture_methods, field="method")
            subject, checked = ledger.check_record(row.command, methods=policy.capture_methods)
            contact_key = ledger.contact_key_of(tenant, checked.contact_id)
        except LedgerError as error:
            report.rejected.append(_rejection(row.line, error))
            continue

        def decide(
            state: SubjectState, now: datetime, checked: RecordConsent = checked
        ) -> Decision:
            drafts = decide_import(state, checked, now=now, policy=policy)
            return Decision(scope_opt_outs(drafts, policy.opt_out_scope))

        source_key = (checked.source.kind, checked.source.id or "")
        items.append(WorkItem(subject, decide, source_key=source_key, contact_key=contact_key))
        lines.append(row.line)
    if not items:
        return _Submitted(lines, None)
    return _Submitted(lines, ledger.writer.submit(tenant, items, atomic=False))


def _rejection(line: int, error: LedgerError | None) -> Rejection:
    if error is None:
        return Rejection(row=line, code="invalid_row", message="the row could not be read")
    return Rejection(row=line, code=error.code, message=error.message, field=error.field)
