"""``consent-ledger expire``: record the expiry of opt-in requests left unanswered, and
the lapse of grants older than their tenant's policy allows (``consent_lapsed``).

Candidates come from the ``pending_requests`` read model (kept by ``consume`` when Kafka
is configured; caught up from the ledger first on the embedded default). One pass, or a
pass every ``--every`` seconds until SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.cli.lapse_pass import lapse_pass
from api.cli.publisher_health import publisher_part
from api.cli.stopping import stop_on_signals, worker_http
from ledger.application.consent_ledger import ConsentLedger
from ledger.application.expiry import DueRequest, expire_due
from ledger.domain.times import utc_now
from ledger.publishing.kafka import KafkaSettings
from ledger.runtime.liveness import beat
from ledger.runtime.storage_settings import StorageSettings
from projections.consent_status.projection import ConsentStatusProjection
from projections.ledger_feed import catch_up
from projections.ledger_source import LedgerSource
from projections.pending_requests import PendingRequestsProjection
from projections.views import open_typed

log = logging.getLogger(__name__)


class ExpireSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Set: the consumers keep ``pending_requests``; unset: it is caught up here first.
    kafka_bootstrap_servers: str | None = Field(default=None, alias="KAFKA_BOOTSTRAP_SERVERS")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "expire",
        help="record OptInRequestExpired for requests unanswered past expires_at, and "
        "ConsentLapsed for grants older than the tenant's lapse policy",
    )
    parser.add_argument(
        "--every", type=float, metavar="SECONDS", help="repeat every SECONDS until stopped"
    )
    parser.add_argument("--limit", type=int, default=1000, help="requests per pass (1000)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    storage = StorageSettings()
    servers = ExpireSettings().kafka_bootstrap_servers
    kafka_mode = storage.uses_postgres and servers is not None
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        pending = open_typed("pending_requests", ledger, PendingRequestsProjection)
        statuses = open_typed("consent_status", ledger, ConsentStatusProjection)
        parts = (
            {
                "publisher": publisher_part(
                    ledger, KafkaSettings(bootstrap_servers=servers), fails=False
                )
            }
            if kafka_mode
            else {}
        )
        with (
            worker_http("expire", enabled=args.every is not None, parts=parts),
            stop_on_signals() as stop,
        ):
            while True:
                beat()
                if not kafka_mode:
                    catch_up(pending, LedgerSource(ledger))
                    catch_up(statuses, LedgerSource(ledger))
                expired = expire_pass(ledger, pending, args.limit)
                lapsed = lapse_pass(ledger, statuses, utc_now(), args.limit)
                log.info("expiry pass", extra={"expired": expired, "lapsed": lapsed})
                if args.every is None or rest(stop, args.every):
                    break
    finally:
        ledger.close()
    return 0


def expire_pass(ledger: ConsentLedger, pending: PendingRequestsProjection, limit: int) -> int:
    due = [
        DueRequest(row.tenant, row.channel, row.address, row.request_id)
        for row in pending.due(utc_now(), limit)
        if row.address is not None  # erased subjects get no new events
    ]
    return len(expire_due(ledger, due)) if due else 0


def rest(stop: threading.Event, seconds: float) -> bool:
    """Wait between passes, beating meanwhile (health checks watch the beat); True when
    stopped."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        beat()
        if stop.wait(min(left, 5.0)):
            return True
    return False
