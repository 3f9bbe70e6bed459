"""``consent-ledger schema create [--grant-to ROLE]``: the ledger's tables, as their owner.

Run it as the owner role (``DATABASE_URL`` of the owner) before the processes start, and
on every upgrade; the processes then run as the service role that ``--grant-to`` names
(docs/sql/roles.sql). Without roles (one database user for everything) the processes
create the tables themselves on start, and this command is not needed.
"""

from __future__ import annotations

import argparse
import logging
import sys

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder

from ledger.application.api_keys import AccessRegistry
from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.storage import open_cosignature_store, open_merkle_store
from ledger.persistence.campaign_receipt_lists import receipt_list_table
from ledger.persistence.contacts import contact_tables
from ledger.persistence.deliveries import delivery_table
from ledger.persistence.gateway_secrets import gateway_secret_table
from ledger.persistence.postgres_grants import grant_service_role
from ledger.runtime.storage_settings import StorageSettings, access_env

log = logging.getLogger("consent_ledger.schema")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("schema", help="create the ledger's tables (as the owner role)")
    schema = parser.add_subparsers(dest="schema_command", required=True)
    create = schema.add_parser(
        "create", help="create every ledger table and trigger; optionally grant a service role"
    )
    create.add_argument(
        "--grant-to", metavar="ROLE", help="the service role the processes run as (PostgreSQL)"
    )
    create.set_defaults(run=create_schema)


def create_schema(args: argparse.Namespace) -> int:
    storage = StorageSettings()
    if args.grant_to and storage.database_url is None:
        print(
            "consent-ledger schema create: --grant-to needs DATABASE_URL (PostgreSQL); "
            "SQLite has no roles",
            file=sys.stderr,
        )
        return 2
    with (
        ConsentLedger(storage.eventsourcing_env()) as ledger,
        AccessRegistry(access_env(storage)) as registry,
    ):
        create_side_tables(ledger)
        recorder, access_recorder = ledger.recorder, registry.recorder
        log.info("schema created", extra={"events_table": recorder_table(recorder)})
        if (
            args.grant_to
            and isinstance(recorder, PostgresApplicationRecorder)
            and storage.database_url is not None
        ):
            with psycopg.connect(storage.database_url.get_secret_value()) as conn:
                grant_service_role(
                    conn,
                    args.grant_to,
                    schema=recorder.datastore.schema,
                    events_table=recorder.events_table_name,
                    access_table=recorder_table(access_recorder),
                )
            log.info("service role granted", extra={"role": args.grant_to})
    return 0


def create_side_tables(ledger: ConsentLedger) -> None:
    """Every table beside the events tables (the recorders create theirs on opening):
    a table added to the ledger belongs here, so the owner creates and owns it."""
    open_merkle_store(ledger)
    open_cosignature_store(ledger)
    contact_tables(ledger.recorder)
    delivery_table(ledger.recorder)
    gateway_secret_table(ledger.recorder)
    receipt_list_table(ledger.recorder)


def recorder_table(recorder: object) -> str:
    return str(getattr(recorder, "events_table_name", ""))
