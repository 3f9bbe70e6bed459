"""The webhook sender: fans the ledger's log out into the outbox, then delivers it.

It follows the notification log from the position stored with the outbox rows (so a
restart neither loses nor repeats a fan-out) and, after every batch and every idle poll,
delivers what is due: the oldest pending row of each (subscription, subject), several
subjects at once, each signed per Standard Webhooks. A 2xx marks a row delivered;
anything else schedules a retry (exponential, with jitter) until the last attempt
dead-letters it. Delivery is at least once: a crash between the receiver's 2xx and the
stored outcome sends that row again, with the same ``webhook-id``.

On PostgreSQL one sender is active per ledger (an advisory lock); others wait.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from ledger.application.core import LedgerCore
from ledger.application.webhooks.subscriptions import secret_context
from ledger.crypto.secret_box import SecretBox
from ledger.crypto.webhook_signatures import headers
from ledger.domain.webhooks.endpoints import EndpointPolicy
from ledger.domain.webhooks.subscriptions import secret_key
from ledger.persistence.webhook_outbox import Delivery, WebhookOutbox
from ledger.persistence.webhook_subscriptions import StoredSubscription, SubscriptionTable
from ledger.publishing.webhooks.fan_out import fan_out
from ledger.publishing.webhooks.http_post import post
from ledger.publishing.webhooks.settings import DeliverSettings
from ledger.runtime.leadership import Leadership, LeadershipLost
from ledger.runtime.liveness import beat
from ledger.runtime.metrics import (
    WEBHOOK_ATTEMPTS,
    WEBHOOK_FAILURES,
    WEBHOOK_FANOUT_LAG,
    WEBHOOK_OLDEST_PENDING,
    WEBHOOK_OUTBOX_ROWS,
    WEBHOOK_PRUNED,
    WEBHOOK_SENDER_RESTARTS,
)
from ledger.runtime.notification_log import NotificationLog

log = logging.getLogger("ledger.webhooks")

# How long one round of deliveries may run before the sender reads the log again.
DELIVERY_ROUND_SECONDS = 2.0
# How often the outbox gauges are refreshed (a count over the outbox each time).
REPORT_SECONDS = 5.0


class WebhookSender:
    def __init__(
        self,
        ledger: LedgerCore,
        settings: DeliverSettings,
        policy: EndpointPolicy,
        secrets: SecretBox,
        *,
        leadership: Leadership | None = None,
    ) -> None:
        self.ledger = ledger
        self.settings = settings
        self.policy = policy
        self.secrets = secrets
        self.leadership = leadership
        self.retry = settings.retry
        self.outbox = WebhookOutbox(ledger.recorder)
        self.subscriptions = SubscriptionTable(ledger.recorder)
        self.log = NotificationLog(
            ledger.recorder, batch_size=settings.batch_size, poll_interval=settings.poll_seconds
        )
        self.position = 0
        self._reported = -REPORT_SECONDS

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; start over after errors, lead when it can."""
        try:
            while not stop.is_set():
                beat()
                if self.leadership is not None and not self.leadership.acquire(
                    stop, self.settings.lock_retry_seconds
                ):
                    return
                try:
                    self._run(stop)
                except LeadershipLost:
                    log.warning("webhook sender lost its lock; waiting to lead again")
                except Exception as exc:  # counted, logged, started over from the outbox
                    WEBHOOK_SENDER_RESTARTS.inc()
                    log.error(
                        "webhook sender failed; starting over from the stored position",
                        extra={"error": f"{type(exc).__name__}: {exc}", "position": self.position},
                    )
                    stop.wait(self.settings.restart_seconds)
        finally:
            if self.leadership is not None:
                self.leadership.release()
        log.info("webhook sender stopped", extra={"position": self.position})

    def _run(self, stop: threading.Event) -> None:
        stored = self.outbox.position()
        self.position = stored if stored is not None else self._first_position()
        log.info("webhook sender started", extra={"after_position": self.position})
        checked = time.monotonic()
        with (
            httpx.Client(
                timeout=self.settings.timeout_seconds,
                follow_redirects=False,
                # Connections go to checked addresses, pooled by address: never reuse one
                # (a TLS session verified for one host name must not carry another's).
                limits=httpx.Limits(max_keepalive_connections=0),
            ) as client,
            ThreadPoolExecutor(
                self.settings.concurrency, thread_name_prefix="webhook-post"
            ) as pool,
        ):
            for batch in self.log.follow(self.position, stop):
                beat()
                if (
                    self.leadership is not None
                    and time.monotonic() - checked > self.settings.lock_retry_seconds
                ):
                    self.leadership.check()
                    checked = time.monotonic()
                if batch:
                    subscriptions = [s.subscription for s in self.subscriptions.every()]
                    if subscriptions:  # with none, nothing to store (see _first_position)
                        rows = fan_out(self.ledger, batch, subscriptions)
                        self.outbox.fan_out(rows, batch[-1].id)
                    self.position = batch[-1].id
                self._deliver_due(client, pool, stop)
                self._report()

    def _first_position(self) -> int:
        """Where a sender that never ran starts: the earliest subscription's start, or
        the log's head when there is none (later subscriptions start after it)."""
        starts = [s.subscription.after_position for s in self.subscriptions.every()]
        return min(starts) if starts else self.log.last_position()

    def _deliver_due(
        self, client: httpx.Client, pool: ThreadPoolExecutor, stop: threading.Event
    ) -> None:
        deadline = time.monotonic() + DELIVERY_ROUND_SECONDS
        while not stop.is_set() and time.monotonic() < deadline:
            due = self.outbox.due(time.time(), self.settings.batch_size)
            if not due:
                return
            subscriptions = {
                (s.subscription.tenant, s.subscription.subscription_id): s
                for s in self.subscriptions.every()
            }
            keys: dict[tuple[str, str], list[bytes]] = {}
            for stored in subscriptions.values():
                s = stored.subscription
                keys[(s.tenant, s.subscription_id)] = self._key(stored)
            outcomes = list(
                pool.map(
                    self._attempt,
                    [client] * len(due),
                    due,
                    [subscriptions.get((d.tenant, d.subscription_id)) for d in due],
                    [keys.get((d.tenant, d.subscription_id)) for d in due],
                )
            )
            if not any(outcomes):
                return  # every one failed: they wait for their retry time

    def _key(self, stored: StoredSubscription) -> list[bytes]:
        """The subscription's signing keys: its secret's, then the replaced secret's while
        the rotation's overlap lasts."""
        s = stored.subscription
        context = secret_context(s.tenant, s.subscription_id)
        keys = [
            secret_key(self.secrets.decrypt(stored.scheme, stored.sealed_secret, context)["secret"])
        ]
        if (
            stored.previous_scheme is not None
            and stored.previous_sealed is not None
            and stored.previous_until is not None
            and stored.previous_until.timestamp() > time.time()
        ):
            previous = self.secrets.decrypt(stored.previous_scheme, stored.previous_sealed, context)
            keys.append(secret_key(previous["secret"]))
        return keys

    def _attempt(
        self,
        client: httpx.Client,
        delivery: Delivery,
        stored: StoredSubscription | None,
        key: list[bytes] | None,
    ) -> bool:
        if stored is None or not key:
            return False  # deleted meanwhile: its rows are dropped with it
        now = time.time()
        signed = headers(key, delivery.delivery_id, int(now), delivery.body)
        outcome = post(client, stored.subscription.url, self.policy, signed, delivery.body)
        where = {
            "tenant": delivery.tenant,
            "subscription_id": delivery.subscription_id,
            "delivery_id": delivery.delivery_id,
            "position": delivery.position,
            "attempt": delivery.attempts + 1,
        }
        if outcome.ok:
            self.outbox.delivered(delivery.delivery_id, time.time(), outcome.status_code or 200)
            WEBHOOK_ATTEMPTS.labels("delivered").inc()
            log.info("webhook delivered", extra={**where, "status_code": outcome.status_code})
            return True
        WEBHOOK_FAILURES.labels(outcome.reason).inc()
        delay = self.retry.delay(delivery.attempts + 1, random.random())  # noqa: S311
        retry_at = None if delay is None else time.time() + delay
        self.outbox.failed(
            delivery.delivery_id, time.time(), outcome.error, outcome.status_code, retry_at
        )
        WEBHOOK_ATTEMPTS.labels("retry" if retry_at is not None else "dead").inc()
        log.warning(
            "webhook delivery failed" if retry_at is not None else "webhook delivery dead",
            extra={
                **where,
                "reason": outcome.reason,
                "error": outcome.error,
                "status_code": outcome.status_code,
                "retry_in": None if delay is None else round(delay, 3),
            },
        )
        return False

    def _report(self) -> None:
        WEBHOOK_FANOUT_LAG.set(max(0, self.log.last_position() - self.position))
        if time.monotonic() - self._reported < REPORT_SECONDS:
            return
        self._reported = time.monotonic()
        pruned = self.outbox.prune(time.time() - self.settings.keep_seconds)
        if pruned:
            WEBHOOK_PRUNED.inc(pruned)
            log.info("webhook deliveries pruned", extra={"count": pruned})
        by_status, oldest = self.outbox.counts()
        for status, count in by_status.items():
            WEBHOOK_OUTBOX_ROWS.labels(status).set(count)
        WEBHOOK_OLDEST_PENDING.set(0 if oldest is None else max(0.0, time.time() - oldest))
