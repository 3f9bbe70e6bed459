"""``consent-ledger``: the one entry point of every process."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from api.cli import (
    consume,
    deliver,
    expire,
    imports,
    keys,
    projections,
    publish,
    reconcile,
    retention,
    schema,
    seal,
    serve,
    tenants,
    verify,
    verify_campaigns,
    witness,
)
from api.cli.json_logs import configure_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="consent-ledger",
        description="An event-sourced, tamper-evident consent ledger. Settings come from "
        "environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (
        serve,
        keys,
        imports,
        seal,
        verify,
        publish,
        consume,
        projections,
        expire,
        tenants,
        retention,
        verify_campaigns,
        witness,
        deliver,
        reconcile,
        schema,
    ):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
