"""Prometheus metrics of every consent-ledger process.

Each process exposes its own registry: the API at ``GET /metrics``; the workers
(publisher, consumer, sealer, expirer) on ``CONSENT_LEDGER_METRICS_PORT``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "consent_ledger_http_requests_total",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "consent_ledger_http_request_duration_seconds",
    "HTTP request latency, by route template and method",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_RECORDED = Counter(
    "consent_ledger_events_recorded_total",
    "Events committed to the ledger by this process, by event type",
    ["type"],
)
PUBLISHER_LAG = Gauge(
    "consent_ledger_publisher_lag_positions",
    "Ledger positions recorded but not yet acknowledged by Kafka",
)
CONSUMER_LAG = Gauge(
    "consent_ledger_consumer_lag_messages",
    "Messages on the partition not yet applied by this consumer",
    ["topic", "partition"],
)
PROJECTION_POSITION = Gauge(
    "consent_ledger_projection_position",
    "Ledger position up to which the read model has applied every event",
    ["projection"],
)
PROJECTION_GAP_REPAIRS = Counter(
    "consent_ledger_projection_gap_repairs_total",
    "Events a projection read from the ledger because Kafka did not deliver them",
    ["projection"],
)
DLQ_MESSAGES = Counter(
    "consent_ledger_dlq_messages_total",
    "Messages sent to the dead-letter topic",
    ["reason"],
)
CHECKPOINT_AGE = Gauge(
    "consent_ledger_checkpoint_age_seconds",
    "Seconds since the latest signed checkpoint",
)
CHECKPOINT_PASSES = Counter(
    "consent_ledger_checkpoint_passes_total",
    "Sealing passes of the in-process checkpoints, by outcome "
    "(signed, unchanged, skipped, failed, corrupt)",
    ["outcome"],
)
CHECKPOINT_TREE_SIZE = Gauge(
    "consent_ledger_checkpoint_tree_size",
    "Leaves in the attestation log after the latest in-process sealing pass",
)
WRITER_GROUPS = Counter(
    "consent_ledger_writer_groups_total",
    "Groups of units the writer committed (one transaction each)",
)
WRITER_QUEUE_ITEMS = Gauge(
    "consent_ledger_writer_queue_items",
    "Items waiting for the writer",
)
WRITER_CONFLICTS = Counter(
    "consent_ledger_writer_conflicts_total",
    "Groups decided again because another process stored a version or source id first",
)
WRITER_ISOLATED_UNITS = Counter(
    "consent_ledger_writer_isolated_units_total",
    "Units committed alone because the database refused their group's data",
)
WRITER_UNAVAILABLE = Counter(
    "consent_ledger_writer_unavailable_total",
    "Groups whose commit failed because the database was away",
)
DATABASE_AWAY_ANSWERS = Counter(
    "consent_ledger_database_away_answers_total",
    "Requests answered 503 because the database was away (or a pool reconnecting): reads, "
    "writes, API-key checks, tenant settings",
)
ANNOUNCE_FAILURES = Counter(
    "consent_ledger_announce_failures_total",
    "Commits whose followers could not be woken (they find the events by polling)",
)
WRITER_GROUP_ITEMS = Histogram(
    "consent_ledger_writer_group_items",
    "Items (events, messages) per group the writer decided",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000),
)
WRITER_PHASE = Histogram(
    "consent_ledger_writer_phase_seconds",
    "Time the writer spent per group: reading, deciding (with encoding), committing",
    ["phase"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
UNANNOUNCED_BATCHES = Counter(
    "consent_ledger_log_unannounced_batches_total",
    "Batches a follower of the log found by polling, with no wake-up announcing them",
)
CAMPAIGN_RECEIPT_LISTS_ALTERED = Counter(
    "consent_ledger_campaign_receipt_lists_altered_total",
    "Campaign receipt lists read back whose root or count no longer match their receipt "
    "event (the proofs of that receipt are refused)",
)
PUBLISHER_UNPUBLISHED = Gauge(
    "consent_ledger_publisher_unpublished_positions",
    "Ledger head minus the position the publisher stored, as this process last checked it "
    "(serve's /readyz, the workers' /healthz)",
)
PUBLISHER_STALLED_SECONDS = Gauge(
    "consent_ledger_publisher_stalled_seconds",
    "Seconds the publisher has been behind the ledger without advancing, as this process "
    "last checked it (0: keeping up)",
)
PUBLISHER_RETRIES = Counter(
    "consent_ledger_publisher_retries_total",
    "Times the publisher started over from its stored position after a broker failure",
)
PROJECTION_HEALED_EVENTS = Counter(
    "consent_ledger_projection_healed_events_total",
    "Events the reconciliation applied from the ledger because the feed had not delivered "
    "them in time (a safety net: the publisher or the consumers are behind)",
    ["projection"],
)
PROJECTION_GAPS_FILLED = Counter(
    "consent_ledger_projection_gaps_filled_total",
    "Times a subject's next event skipped versions and the missing ones were read from the ledger",
    ["projection"],
)
PROJECTION_BATCHES_SPLIT = Counter(
    "consent_ledger_projection_batches_split_total",
    "Batches (a consumer's poll, or the in-process runner's batch of the ledger) that "
    "failed in the one transaction every projection shares and were applied again "
    "projection by projection (a safety net: some record cannot be applied)",
    ["runner"],
)
WEBHOOK_ATTEMPTS = Counter(
    "consent_ledger_webhook_attempts_total",
    "Webhook delivery attempts by outcome (delivered, retry, dead)",
    ["outcome"],
)
WEBHOOK_FAILURES = Counter(
    "consent_ledger_webhook_failures_total",
    "Failed webhook delivery attempts by reason "
    "(status, timeout, connection, blocked_address, unresolvable, refused_url)",
    ["reason"],
)
WEBHOOK_OUTBOX_ROWS = Gauge(
    "consent_ledger_webhook_outbox_rows",
    "Webhook deliveries in the outbox by status (pending, delivered, dead, skipped)",
    ["status"],
)
WEBHOOK_OLDEST_PENDING = Gauge(
    "consent_ledger_webhook_oldest_pending_seconds",
    "Age of the oldest webhook delivery not yet delivered (0: none pending)",
)
WEBHOOK_FANOUT_LAG = Gauge(
    "consent_ledger_webhook_fanout_lag_positions",
    "Ledger positions recorded but not yet fanned out into the webhook outbox",
)
WEBHOOK_PRUNED = Counter(
    "consent_ledger_webhook_pruned_total",
    "Delivered and skipped webhook deliveries forgotten after CONSENT_LEDGER_DELIVER_KEEP_SECONDS",
)
WEBHOOK_SENDER_RESTARTS = Counter(
    "consent_ledger_webhook_sender_restarts_total",
    "Times the webhook sender started over from its stored position after an error",
)
PROVIDER_OPT_OUTS_HELD = Counter(
    "consent_ledger_provider_opt_outs_held_total",
    "Gateway opt-outs held for review by a tenant's burst guard (an unusual spike)",
    ["tenant"],
)
HELD_OPT_OUT_DECISIONS = Counter(
    "consent_ledger_held_opt_out_decisions_total",
    "Held gateway opt-outs an admin released or dismissed",
    ["decision"],
)
