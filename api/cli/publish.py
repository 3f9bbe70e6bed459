"""``consent-ledger publish``: the relay from the ledger to ``consent.events``."""

from __future__ import annotations

import argparse

from api.cli.pipeline_settings import (
    MissingSetting,
    kafka_settings,
    open_ledger,
    postgres_storage,
    quiet_kafka_client,
    refuse,
)
from api.cli.publisher_health import publisher_part
from api.cli.stopping import stop_on_signals, worker_http
from ledger.publishing.publisher import Publisher, PublishSettings
from ledger.runtime.collector import settle_after_start


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "publish",
        help="publish every ledger event to Kafka (one active instance per ledger; others wait)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        storage = postgres_storage("publish")
        kafka = kafka_settings("publish")
    except MissingSetting as error:
        return refuse(error)
    quiet_kafka_client()
    settings = PublishSettings()
    conninfo = storage.database_url.get_secret_value() if storage.database_url else ""
    ledger = open_ledger(storage)
    try:
        publisher = Publisher(ledger, kafka, settings, lock_conninfo=conninfo)
        parts = {"publisher": publisher_part(ledger, kafka, fails=True)}
        settle_after_start()  # ledger/runtime/collector.py
        with worker_http("publish", parts=parts), stop_on_signals() as stop:
            publisher.run(stop)
    finally:
        ledger.close()
    return 0
