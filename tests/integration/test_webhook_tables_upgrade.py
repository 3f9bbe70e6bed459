"""A subscriptions table created by the first version (no rotation columns) is upgraded in
place when the ledger opens it, on both backends: its subscriptions stay, and rotating a
secret works."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from ledger.application.consent_ledger import ConsentLedger
from ledger.persistence.side_sql import SideSql
from ledger.persistence.webhook_subscriptions import SUFFIX, SubscriptionTable


def test_a_first_version_subscriptions_table_is_upgraded_in_place(ledger: ConsentLedger) -> None:
    sql = SideSql(ledger.recorder)
    table = sql.table(SUFFIX)
    sql.create(
        f"CREATE TABLE IF NOT EXISTS {table} (tenant TEXT NOT NULL, "
        "subscription_id TEXT NOT NULL, url TEXT NOT NULL, event_types TEXT NOT NULL, "
        "after_position {int} NOT NULL, scheme TEXT NOT NULL, sealed_secret TEXT NOT NULL, "
        "created_at {float} NOT NULL, updated_at {float} NOT NULL, "
        "PRIMARY KEY (tenant, subscription_id))"
    )
    with sql.transaction(commit=True) as run:
        run.run(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            ("acme", "crm", "https://hooks.example.com/", "[]", 0, "plain", "{}", 1.0, 1.0),
        )
    subscriptions = SubscriptionTable(ledger.recorder)
    stored = subscriptions.get("acme", "crm")
    assert stored is not None
    assert stored.subscription.url == "https://hooks.example.com/"
    assert stored.previous_until is None
    later = datetime(2030, 1, 1, tzinfo=UTC)
    rotated = replace(stored, previous_scheme="plain", previous_sealed="{}", previous_until=later)
    assert subscriptions.put(rotated).previous_until == later
    SubscriptionTable(ledger.recorder)  # a second open finds nothing to add
