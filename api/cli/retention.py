"""``consent-ledger retention report|erase``: subjects past their ``retention_until``.

``report`` prints one JSON line per due subject (subject id, tenant, channel,
jurisdiction, last event, retention_until; never an address). ``erase`` crypto-shreds
each due subject's personal data, as an erasure does (reason ``retention_expired``);
``--dry-run`` prints what it would erase and writes nothing. Nothing is ever deleted from
the events table. Policies come from ``CONSENT_LEDGER_COMPLIANCE_POLICY``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.retention import due_subjects, erase_due
from ledger.domain.times import parse_time, utc_now
from ledger.runtime.compliance_settings import ComplianceSettings
from ledger.runtime.storage_settings import StorageSettings

log = logging.getLogger(__name__)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "retention", help="list, or erase (crypto-shred), subjects past their retention_until"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    for name, text in (
        ("report", "print one JSON line per subject past its retention_until"),
        ("erase", "crypto-shred the personal data of every subject past its retention_until"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--tenant", help="only this tenant (default: every tenant)")
        action.add_argument(
            "--as-of", metavar="TIME", help="RFC 3339; due at this moment (default: now)"
        )
        if name == "erase":
            action.add_argument(
                "--dry-run", action="store_true", help="print what would be erased; write nothing"
            )
        action.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        now = parse_time(args.as_of) if args.as_of else utc_now()
    except ValueError:
        print(f"--as-of {args.as_of!r} is not an RFC 3339 time with a zone", file=sys.stderr)
        return 2
    compliance = ComplianceSettings()
    ledger = ConsentLedger(StorageSettings().eventsourcing_env())
    try:
        rows = list(due_subjects(ledger, compliance.policy_for, now, tenant=args.tenant))
        if args.action == "report" or args.dry_run:
            for row in rows:
                line = row.to_json()
                if args.action == "erase":
                    line["erased"] = "dry-run"
                print(json.dumps(line), flush=True)
            log.info("retention report", extra={"due": len(rows), "action": args.action})
            return 0
        erased = erase_due(ledger, rows)
        for row, recorded in erased:
            print(json.dumps({**row.to_json(), "erased": "yes", "position": recorded.position}))
        log.info("retention erasure", extra={"erased": len(erased)})
        return 0
    finally:
        ledger.close()
