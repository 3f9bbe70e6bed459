"""``consent-ledger deliver``: the webhook sender as a process of its own.

On PostgreSQL, run it beside ``serve`` (one instance leads, others wait on an advisory
lock). On the embedded SQLite default ``serve`` delivers itself
(``CONSENT_LEDGER_DELIVER_IN_SERVE``); run this instead only with that set to false.
"""

from __future__ import annotations

import argparse
import logging

from api.cli.pipeline_settings import open_ledger
from api.cli.stopping import stop_on_signals, worker_http
from ledger.application.webhooks.settings import WebhookSettings
from ledger.crypto.secret_box import SecretBox, SecretsSettings
from ledger.publishing.webhooks.sender import WebhookSender
from ledger.publishing.webhooks.settings import DeliverSettings
from ledger.runtime.collector import settle_after_start
from ledger.runtime.leadership import Leadership
from ledger.runtime.storage_settings import StorageSettings

log = logging.getLogger("ledger.webhooks")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "deliver",
        help="deliver consent changes to the tenants' webhook subscriptions "
        "(one active instance per ledger; others wait)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    storage = StorageSettings()
    settings = DeliverSettings()
    if not storage.uses_postgres and settings.runs_in_serve(False):
        log.warning(
            "on the embedded default serve delivers too: set "
            "CONSENT_LEDGER_DELIVER_IN_SERVE=false for serve, or a subject's deliveries "
            "may be sent twice and out of order",
            extra={"setting": "CONSENT_LEDGER_DELIVER_IN_SERVE"},
        )
    ledger = open_ledger(storage)
    leadership = (
        Leadership(storage.database_url.get_secret_value(), "webhooks", role="webhook sender")
        if storage.database_url is not None
        else None
    )
    try:
        sender = WebhookSender(
            ledger,
            settings,
            WebhookSettings().policy,
            SecretBox.from_settings(SecretsSettings()),
            leadership=leadership,
        )
        settle_after_start()  # ledger/runtime/collector.py
        with worker_http("deliver"), stop_on_signals() as stop:
            sender.run(stop)
    finally:
        ledger.close()
    return 0
