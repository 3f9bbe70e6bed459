"""``consent-ledger keys create``: issue an API key (printed once, stored hashed)."""

from __future__ import annotations

import argparse
import sys

from api.cli import signing_key
from ledger.application.api_keys import AccessRegistry
from ledger.domain.errors import LedgerError
from ledger.domain.roles import parse_roles
from ledger.runtime.storage_settings import StorageSettings, access_env


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("keys", help="manage API keys")
    keys = parser.add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="issue a key; prints the key and nothing else")
    create.add_argument("--tenant", required=True)
    create.add_argument(
        "--roles", required=True, help="comma-separated: ingest,campaign,auditor,admin"
    )
    create.set_defaults(run=create_key)
    revoke = keys.add_parser("revoke", help="revoke a key by its id (the part after cl_)")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=revoke_key)
    signing_key.add_parser(keys)


def create_key(args: argparse.Namespace) -> int:
    try:
        roles = parse_roles(args.roles)
        with AccessRegistry(access_env(StorageSettings())) as registry:
            key = registry.issue(args.tenant, roles)
    except LedgerError as error:
        print(f"consent-ledger keys create: {error.field}: {error.message}", file=sys.stderr)
        return 2
    print(key)
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    with AccessRegistry(access_env(StorageSettings())) as registry:
        registry.revoke(args.key_id)
    return 0
