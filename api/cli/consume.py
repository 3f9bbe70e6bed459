"""``consent-ledger consume``: Kafka ``consent.events`` into the projections."""

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
from consumers.consume_settings import ConsumeSettings
from consumers.service import ProjectionConsumers, UnknownProjection
from ledger.runtime.collector import settle_after_start


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "consume", help="feed the projections from Kafka (a consumer group; run several)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        storage = postgres_storage("consume")
        kafka = kafka_settings("consume")
    except MissingSetting as error:
        return refuse(error)
    quiet_kafka_client()
    settings = ConsumeSettings()
    ledger = open_ledger(storage)
    try:
        try:
            consumers = ProjectionConsumers(ledger, kafka, settings)
        except UnknownProjection as error:
            return refuse(MissingSetting(f"consent-ledger consume: {error}"))
        parts = {"publisher": publisher_part(ledger, kafka, fails=False)}
        settle_after_start()  # ledger/runtime/collector.py
        with worker_http("consume", parts=parts), stop_on_signals() as stop:
            consumers.run(stop)
    finally:
        ledger.close()
    return 0
