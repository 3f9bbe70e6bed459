"""Importing the answers of a reassigned-numbers query (e.g. the FCC Reassigned Numbers
Database, or a carrier lookup) as ``consent_invalidated`` events.

The file has one row per number asked about: ``address``, ``queried_at`` (when the
source was asked), ``result`` (its answer), and optionally ``channel`` and ``reason``.
The FCC database answers ``yes`` (the number was permanently disconnected since the
date asked about: the consent on record was given by someone else), ``no`` or
``no_data``; only a ``yes`` (or the tenant's ``positive`` answers) records an
invalidation, the others are counted as unchanged. Rows are recorded like any import:
in batches, a bad row reported and never stopping the others, a re-import a no-op.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.imports import ParsedRow, command_of_row, import_rows
from ledger.domain.addresses import parse_channel
from ledger.domain.commands import InvalidationReason
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.invalidations import REASONS
from ledger.domain.validation import SOURCE_KIND_PATTERN

REQUIRED_COLUMNS = ("address", "queried_at", "result")
POSITIVE_ANSWERS = frozenset({"yes"})


@dataclass
class QueryFile:
    """What the caller says about the whole file."""

    tenant: str
    channel: str
    data_source: str = "fcc_rnd"
    recorded_by: str | None = None
    reason: str = InvalidationReason.NUMBER_REASSIGNED.value


def parse_results(
    lines: Iterable[str], query: QueryFile, unchanged: list[int]
) -> Iterator[ParsedRow]:
    """The rows that invalidate a consent; the line of every other answer goes to
    ``unchanged``."""
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InvalidInput(
            f"the CSV header lacks the columns {', '.join(missing)}; it needs "
            f"{', '.join(REQUIRED_COLUMNS)}",
            field="header",
            code="invalid_csv",
        )
    for line, row in enumerate(reader, start=2):
        result = (row.get("result") or "").strip()
        if result.lower() not in POSITIVE_ANSWERS:
            unchanged.append(line)
            continue
        event: dict[str, str | None] = {
            "type": "consent_invalidated",
            "channel": (row.get("channel") or "").strip() or query.channel,
            "address": row.get("address"),
            "occurred_at": row.get("queried_at"),
            "reason": (row.get("reason") or "").strip() or query.reason,
            "data_source": (row.get("data_source") or "").strip() or query.data_source,
            "queried_at": row.get("queried_at"),
            "result": result,
            "method": "import",
            "source_id": f"{query.data_source}:{(row.get('address') or '').strip()}:"
            f"{(row.get('queried_at') or '').strip()}",
        }
        try:
            yield ParsedRow(
                line=line, command=command_of_row(event, query.tenant, query.recorded_by)
            )
        except LedgerError as error:
            yield ParsedRow(line=line, error=error)


def import_results(ledger: ConsentLedger, lines: Iterable[str], query: QueryFile) -> dict[str, Any]:
    """Record the invalidations of a query's answers; the import report, plus how many
    answers changed nothing."""
    parse_channel(query.channel)
    if query.reason not in REASONS:
        raise InvalidInput(
            f"reason must be one of {', '.join(REASONS)}", field="reason", code="invalid_reason"
        )
    if not SOURCE_KIND_PATTERN.match(query.data_source):
        raise InvalidInput(
            "the data source must be a lowercase identifier (fcc_rnd…)",
            field="data_source",
            code="invalid_source",
        )
    unchanged: list[int] = []
    report = import_rows(ledger, parse_results(lines, query, unchanged), tenant=query.tenant)
    answer = report.as_dict()
    answer["rows"] += len(unchanged)
    answer["unchanged"] = len(unchanged)
    return answer
