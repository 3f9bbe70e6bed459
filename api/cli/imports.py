"""``consent-ledger import FILE.csv --tenant T``: bulk import with a progress bar and a report."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.import_processes import ImportProcessFailed, import_in_processes
from ledger.application.imports import (
    ImportReport,
    check_csv,
    csv_records,
    import_rows,
    parse_csv,
)
from ledger.domain.errors import LedgerError
from ledger.runtime.collector import fewer_full_collections
from ledger.runtime.storage_settings import StorageSettings

EXIT_REJECTED_ROWS = 3
RECORDED_BY = "cli:import"
# Each recording process holds up to ~8 connections: the default stays well within
# PostgreSQL's default 100 on a large machine.
MAX_DEFAULT_WORKERS = 4


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import", help="import opt-ins and opt-outs from a CSV file (see README for the columns)"
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--tenant", required=True)
    parser.add_argument(
        "--rejects", type=Path, help="write the rejected rows and reasons here (CSV)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="processes recording the rows, each subject in one (default: the machine's "
        f"cores, at most {MAX_DEFAULT_WORKERS}, on PostgreSQL; 1 on the SQLite default)",
    )
    parser.set_defaults(run=run)


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal, or at the end)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self.interactive = sys.stderr.isatty()

    def __call__(self, report: ImportReport) -> None:
        if self.interactive:
            print("\r" + self.line(report), end="", file=sys.stderr, flush=True)

    def line(self, report: ImportReport) -> str:
        done = report.rows
        width = 30
        filled = width * done // max(self.total, 1)
        rate = done / max(time.monotonic() - self.started, 1e-9)
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{self.total:,} rows "
            f"({report.accepted:,} accepted, {report.duplicates:,} duplicates, "
            f"{len(report.rejected):,} rejected) {rate:,.0f} rows/s"
        )

    def finish(self, report: ImportReport) -> None:
        print(("\r" if self.interactive else "") + self.line(report), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"consent-ledger import: {path}: no such file", file=sys.stderr)
        return 2
    # The whole file is read once before anything is stored: a file that cannot be read
    # on (a cell past the limit at row 1,003, say) is refused whole, naming row and column.
    with path.open(newline="", encoding="utf-8-sig") as checking:
        try:
            total = check_csv(checking)
        except LedgerError as error:
            print(f"consent-ledger import: {error.field}: {error.message}", file=sys.stderr)
            return 2
    settings = StorageSettings()
    postgres = settings.uses_postgres
    default = min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS) if postgres else 1
    workers = args.workers if args.workers is not None else default
    if workers < 1:
        print("consent-ledger import: --workers must be at least 1", file=sys.stderr)
        return 2
    if workers > 1 and not postgres:
        print(
            "consent-ledger import: --workers above 1 needs PostgreSQL (DATABASE_URL); "
            "SQLite takes one writer at a time",
            file=sys.stderr,
        )
        return 2
    progress = Progress(total)
    fewer_full_collections()  # as in serve: the writers' state caches are long-lived
    try:
        report = _import(path, args.tenant, settings, workers, progress)
    except LedgerError as error:
        print(f"consent-ledger import: {error.field}: {error.message}", file=sys.stderr)
        return 2
    except ImportProcessFailed as error:
        print(f"consent-ledger import: {error}", file=sys.stderr)
        return 1
    progress.finish(report)
    if args.rejects is not None:
        with args.rejects.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["row", "field", "code", "message"])
            writer.writerows((r.row, r.field or "", r.code, r.message) for r in report.rejected)
    print(json.dumps(report.as_dict(max_rejections=100)))
    return EXIT_REJECTED_ROWS if report.rejected else 0


def _import(
    path: Path, tenant: str, settings: StorageSettings, workers: int, progress: Progress
) -> ImportReport:
    with path.open(newline="", encoding="utf-8-sig") as lines:
        if workers > 1:
            return import_in_processes(
                settings.eventsourcing_env(),
                csv_records(lines),
                tenant=tenant,
                recorded_by=RECORDED_BY,
                parts=workers,
                progress=progress,
            )
        with ConsentLedger(settings.eventsourcing_env()) as ledger:
            rows = parse_csv(lines, tenant=tenant, recorded_by=RECORDED_BY)
            return import_rows(ledger, rows, tenant=tenant, progress=progress)
