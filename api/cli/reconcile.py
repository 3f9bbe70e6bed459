"""``consent-ledger reconcile FILE.csv --gateway G --tenant T --channel C [--record]``:
compare a gateway's exported opt-out list with the ledger and print the drift report
(JSON on stdout). With ``--record`` the opt-outs the ledger missed are recorded as
gateway opt-outs, through the tenant's burst guard. Exit 0 when the list and the ledger
agree, 3 when they differ, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from api.cli.expire import ExpireSettings
from api.reconciliation import GatewayList, read_addresses, reconcile
from ledger.application.consent_ledger import ConsentLedger
from ledger.application.signals.recorder import SignalRecorder
from ledger.domain.errors import LedgerError
from ledger.domain.times import format_time, utc_now
from ledger.runtime.storage_settings import StorageSettings
from projections.consent_status.projection import ConsentStatusProjection
from projections.consent_status.queries import ConsentQueries
from projections.ledger_feed import catch_up
from projections.ledger_source import LedgerSource
from projections.views import open_typed

EXIT_DRIFT = 3


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "reconcile",
        help="compare a gateway's opt-out list (CSV, an address column) with the ledger",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--gateway", required=True, help="twilio, whatsapp, gupshup, glific…")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--channel", required=True, help="sms or whatsapp")
    parser.add_argument("--list-id", help="names this export (default: today's date)")
    parser.add_argument(
        "--record", action="store_true", help="record the opt-outs the ledger missed"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"consent-ledger reconcile: {path}: no such file", file=sys.stderr)
        return 2
    storage = StorageSettings()
    listed = GatewayList(
        args.tenant,
        args.channel,
        args.gateway,
        args.list_id or format_time(utc_now())[:10],
        "cli:reconcile",
    )
    with ConsentLedger(storage.eventsourcing_env()) as ledger:
        view = open_typed("consent_status", ledger, ConsentStatusProjection)
        # The embedded default has no consumer keeping it: catch it up first. With Kafka
        # the consumers keep it.
        if not (storage.uses_postgres and ExpireSettings().kafka_bootstrap_servers):
            catch_up(view, LedgerSource(ledger))
        try:
            with path.open(newline="", encoding="utf-8-sig") as lines:
                rows = read_addresses(lines)
            report = reconcile(
                ConsentQueries(view.model), SignalRecorder(ledger), listed, rows, record=args.record
            )
        except LedgerError as error:
            print(f"consent-ledger reconcile: {error.field}: {error.message}", file=sys.stderr)
            return 2
    print(json.dumps(report.as_dict()))
    drift = report.missing_in_ledger.count or report.missing_at_gateway.count
    return EXIT_DRIFT if drift else 0
