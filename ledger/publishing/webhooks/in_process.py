"""The webhook sender on a thread of ``serve`` (the embedded default's way to deliver)."""

from __future__ import annotations

import logging
import threading

from ledger.application.core import LedgerCore
from ledger.application.webhooks.settings import WebhookSettings
from ledger.crypto.secret_box import SecretBox, SecretsSettings
from ledger.publishing.webhooks.sender import WebhookSender
from ledger.publishing.webhooks.settings import DeliverSettings
from ledger.runtime.leadership import Leadership
from ledger.runtime.storage_settings import StorageSettings

log = logging.getLogger("ledger.webhooks")


class SenderThread:
    def __init__(self, sender: WebhookSender) -> None:
        self.sender = sender
        self.stop = threading.Event()
        self.thread = threading.Thread(target=sender.run, args=(self.stop,), name="webhooks")

    def start(self) -> SenderThread:
        self.thread.start()
        log.info("in-process webhook sender started")
        return self

    def close(self, timeout: float = 30.0) -> None:
        self.stop.set()
        self.thread.join(timeout)


def start_in_serve(
    ledger: LedgerCore, storage: StorageSettings, settings: DeliverSettings | None = None
) -> SenderThread | None:
    """The running sender thread when ``serve`` delivers (``CONSENT_LEDGER_DELIVER_IN_SERVE``;
    by default on the embedded SQLite default only), else None. With several ``serve``
    workers on PostgreSQL, one delivers at a time (an advisory lock)."""
    settings = settings or DeliverSettings()
    if not settings.runs_in_serve(storage.uses_postgres):
        return None
    leadership = (
        Leadership(storage.database_url.get_secret_value(), "webhooks", role="webhook sender")
        if storage.database_url is not None
        else None
    )
    sender = WebhookSender(
        ledger,
        settings,
        WebhookSettings().policy,
        SecretBox.from_settings(SecretsSettings()),
        leadership=leadership,
    )
    return SenderThread(sender).start()
