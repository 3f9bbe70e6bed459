"""The tenants' webhook subscriptions, beside the events table on both backends.

A subscription is configuration, not consent: it is kept in its own table, not in the
ledger's log. Its secret is stored encrypted (``crypto/secret_box.py``) and never
returned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.domain.webhooks.subscriptions import Subscription
from ledger.persistence.side_sql import SideSql

SUFFIX = "_webhook_subscriptions"


@dataclass(frozen=True)
class StoredSubscription:
    subscription: Subscription
    scheme: str  # how the secret is sealed ("plain" or "aes256gcm")
    sealed_secret: str
    # The secret a rotation replaced, also signed with until ``previous_until``.
    previous_scheme: str | None = None
    previous_sealed: str | None = None
    previous_until: datetime | None = None


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _stored(row: dict[str, Any]) -> StoredSubscription:
    return StoredSubscription(
        Subscription(
            tenant=row["tenant"],
            subscription_id=row["subscription_id"],
            url=row["url"],
            event_types=tuple(json.loads(row["event_types"])),
            after_position=int(row["after_position"]),
            created_at=_moment(row["created_at"]),
            updated_at=_moment(row["updated_at"]),
        ),
        scheme=row["scheme"],
        sealed_secret=row["sealed_secret"],
        previous_scheme=row["previous_scheme"],
        previous_sealed=row["previous_sealed"],
        previous_until=(
            _moment(row["previous_until"]) if row["previous_until"] is not None else None
        ),
    )


class SubscriptionTable:
    def __init__(self, recorder: object) -> None:
        self.sql = SideSql(recorder)
        self.table = self.sql.table(SUFFIX)
        self.sql.create(
            f"CREATE TABLE IF NOT EXISTS {self.table} (tenant TEXT NOT NULL, "
            "subscription_id TEXT NOT NULL, url TEXT NOT NULL, event_types TEXT NOT NULL, "
            "after_position {int} NOT NULL, scheme TEXT NOT NULL, sealed_secret TEXT NOT NULL, "
            "previous_scheme TEXT, previous_sealed TEXT, previous_until {float}, "
            "created_at {float} NOT NULL, updated_at {float} NOT NULL, "
            "PRIMARY KEY (tenant, subscription_id))"
        )
        # Tables created before secrets could be rotated lack these.
        self.sql.add_columns(
            self.table,
            {"previous_scheme": "TEXT", "previous_sealed": "TEXT", "previous_until": "{float}"},
        )

    def put(self, stored: StoredSubscription) -> StoredSubscription:
        """Insert or replace; a replaced subscription keeps its ``after_position`` and
        ``created_at``. Returns what is stored now."""
        s = stored.subscription
        with self.sql.transaction(commit=True) as sql:
            sql.run(
                f"INSERT INTO {self.table} (tenant, subscription_id, url, event_types, "
                "after_position, scheme, sealed_secret, previous_scheme, previous_sealed, "
                "previous_until, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, subscription_id) "
                "DO UPDATE SET url = excluded.url, event_types = excluded.event_types, "
                "scheme = excluded.scheme, sealed_secret = excluded.sealed_secret, "
                "previous_scheme = excluded.previous_scheme, "
                "previous_sealed = excluded.previous_sealed, "
                "previous_until = excluded.previous_until, updated_at = excluded.updated_at",
                (
                    s.tenant,
                    s.subscription_id,
                    s.url,
                    json.dumps(list(s.event_types)),
                    s.after_position,
                    stored.scheme,
                    stored.sealed_secret,
                    stored.previous_scheme,
                    stored.previous_sealed,
                    stored.previous_until.timestamp() if stored.previous_until else None,
                    s.created_at.timestamp(),
                    s.updated_at.timestamp(),
                ),
            )
            rows = sql.run(
                f"SELECT * FROM {self.table} WHERE tenant = ? AND subscription_id = ?",
                (s.tenant, s.subscription_id),
            )
        return _stored(rows[0])

    def get(self, tenant: str, subscription_id: str) -> StoredSubscription | None:
        with self.sql.transaction(commit=False) as sql:
            rows = sql.run(
                f"SELECT * FROM {self.table} WHERE tenant = ? AND subscription_id = ?",
                (tenant, subscription_id),
            )
        return _stored(rows[0]) if rows else None

    def of_tenant(self, tenant: str) -> list[StoredSubscription]:
        with self.sql.transaction(commit=False) as sql:
            rows = sql.run(
                f"SELECT * FROM {self.table} WHERE tenant = ? ORDER BY subscription_id",
                (tenant,),
            )
        return [_stored(row) for row in rows]

    def every(self) -> list[StoredSubscription]:
        with self.sql.transaction(commit=False) as sql:
            rows = sql.run(f"SELECT * FROM {self.table} ORDER BY tenant, subscription_id")
        return [_stored(row) for row in rows]

    def delete(self, tenant: str, subscription_id: str) -> bool:
        with self.sql.transaction(commit=True) as sql:
            sql.run(
                f"DELETE FROM {self.table} WHERE tenant = ? AND subscription_id = ?",
                (tenant, subscription_id),
            )
            return sql.rowcount == 1
