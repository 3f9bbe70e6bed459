"""The webhook outbox: one row per (subscription, ledger event) to deliver, on both backends.

The sender fans each event of the ledger's log out into rows here and stores how far it
got (``<events>_webhook_positions``) in the same transaction, so a restart neither loses
nor repeats a fan-out. A row stays ``pending`` until its endpoint answers 2xx
(``delivered``); after the last retry it is ``dead`` (the dead-letter list) until an
admin replays it (``pending`` again) or skips it (``skipped``).

Per-subject order: ``due`` offers a row only when no earlier row of the same
subscription and subject is still ``pending`` or ``dead``, so a subject's later changes
wait behind one that fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from ledger.persistence.side_sql import SideSql

SUFFIX = "_webhook_deliveries"
POSITIONS_SUFFIX = "_webhook_positions"
FAN_OUT = "fan-out"
PENDING, DELIVERED, DEAD, SKIPPED = "pending", "delivered", "dead", "skipped"
STATUSES = (PENDING, DELIVERED, DEAD, SKIPPED)
_NAMESPACE = UUID("6f1c2a9e-8d3b-5e47-9a0c-2b7d4e1f6a38")


def delivery_id(tenant: str, subscription_id: str, event_id: str) -> str:
    return str(uuid5(_NAMESPACE, f"{tenant}/{subscription_id}/{event_id}"))


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    tenant: str
    subscription_id: str
    subject_id: str
    position: int
    event_id: str
    event_type: str
    body: bytes
    status: str
    attempts: int
    next_attempt_at: float
    created_at: float
    last_attempt_at: float | None
    last_error: str | None
    last_status_code: int | None


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(
        delivery_id=row["delivery_id"],
        tenant=row["tenant"],
        subscription_id=row["subscription_id"],
        subject_id=row["subject_id"],
        position=int(row["position"]),
        event_id=row["event_id"],
        event_type=row["event_type"],
        body=row["body"].encode("utf-8"),
        status=row["status"],
        attempts=int(row["attempts"]),
        next_attempt_at=float(row["next_attempt_at"]),
        created_at=float(row["created_at"]),
        last_attempt_at=row["last_attempt_at"],
        last_error=row["last_error"],
        last_status_code=row["last_status_code"],
    )


class WebhookOutbox:
    def __init__(self, recorder: object) -> None:
        self.sql = SideSql(recorder)
        self.table = self.sql.table(SUFFIX)
        self.positions = self.sql.table(POSITIONS_SUFFIX)
        index = self.sql.table(SUFFIX + "_order").split(".")[-1]
        due_index = self.sql.table(SUFFIX + "_due").split(".")[-1]
        self.sql.create(
            f"CREATE TABLE IF NOT EXISTS {self.table} (delivery_id TEXT PRIMARY KEY, "
            "tenant TEXT NOT NULL, subscription_id TEXT NOT NULL, subject_id TEXT NOT NULL, "
            "position {int} NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, "
            "body TEXT NOT NULL, status TEXT NOT NULL, attempts {int} NOT NULL, "
            "next_attempt_at {float} NOT NULL, created_at {float} NOT NULL, "
            "last_attempt_at {float}, last_error TEXT, last_status_code {int})",
            f"CREATE INDEX IF NOT EXISTS {index} ON {self.table} "
            "(tenant, subscription_id, subject_id, position)",
            f"CREATE INDEX IF NOT EXISTS {due_index} ON {self.table} (status, next_attempt_at)",
            f"CREATE TABLE IF NOT EXISTS {self.positions} (name TEXT PRIMARY KEY, "
            "position {int} NOT NULL)",
        )

    def position(self) -> int | None:
        """The last ledger position fanned out, None before the first fan-out."""
        with self.sql.transaction(commit=False) as sql:
            rows = sql.run(f"SELECT position FROM {self.positions} WHERE name = ?", (FAN_OUT,))
        return int(rows[0]["position"]) if rows else None

    def fan_out(self, deliveries: list[Delivery], position: int) -> None:
        """Store new rows (a row already there is left as it is) and the position, at once."""
        with self.sql.transaction(commit=True) as sql:
            for d in deliveries:
                sql.run(
                    f"INSERT INTO {self.table} (delivery_id, tenant, subscription_id, "
                    "subject_id, position, event_id, event_type, body, status, attempts, "
                    "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
                    "ON CONFLICT (delivery_id) DO NOTHING",
                    (
                        d.delivery_id,
                        d.tenant,
                        d.subscription_id,
                        d.subject_id,
                        d.position,
                        d.event_id,
                        d.event_type,
                        d.body.decode("utf-8"),
                        PENDING,
                        d.next_attempt_at,
                        d.created_at,
                    ),
                )
            sql.run(
                f"INSERT INTO {self.positions} (name, position) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position "
                f"WHERE excluded.position > {self.positions}.position",
                (FAN_OUT, position),
            )

    def due(self, now: float, limit: int) -> list[Delivery]:
        """Pending rows whose time has come and that no earlier row of their subject holds
        back, in ledger order."""
        with self.sql.transaction(commit=False) as sql:
            rows = sql.run(
                f"SELECT * FROM {self.table} d WHERE d.status = ? AND d.next_attempt_at <= ? "
                f"AND NOT EXISTS (SELECT 1 FROM {self.table} e WHERE e.tenant = d.tenant "
                "AND e.subscription_id = d.subscription_id AND e.subject_id = d.subject_id "
                "AND e.position < d.position AND e.status IN (?, ?)) "
                "ORDER BY d.position LIMIT ?",
                (PENDING, now, PENDING, DEAD, limit),
            )
        return [_delivery(row) for row in rows]

    def next_due(self) -> float | None:
        """When the earliest pending row is due (it may be held back by an earlier one)."""
        with self.sql.transaction(commit=False) as sql:
            rows = sql.run(
                f"SELECT MIN(next_attempt_at) AS at FROM {self.table} WHERE status = ?",
                (PENDING,),
            )
        at = rows[0]["at"] if rows else None
        return None if at is None else float(at)

    def delivered(self, delivery_id: str, now: float, status_code: int) -> None:
        with self.sql.transaction(commit=True) as sql:
            sql.run(
                f"UPDATE {self.table} SET status = ?, attempts = attempts + 1, "
                "last_attempt_at = ?, last_error = NULL, last_status_code = ? "
                "WHERE delivery_id = ? AND status = ?",
                (DELIVERED, now, status_code, delivery_id, PENDING),
            )

    def failed(
        self,
        delivery_id: str,
        now: float,
        error: str,
        status_code: int | None,
        retry_at: float | None,
    ) -> None:
        """Record a failed attempt: pending until ``retry_at``, or dead when it is None."""
        with self.sql.transaction(commit=True) as sql:
            sql.run(
                f"UPDATE {self.table} SET status = ?, attempts = attempts + 1, "
                "next_attempt_at = ?, last_attempt_at = ?, last_error = ?, "
                "last_status_code = ? WHERE delivery_id = ? AND status = ?",
                (
                    PENDING if retry_at is not None else DEAD,
                    retry_at if retry_at is not None else now,
                    now,
                    error[:500],
                    status_code,
                    delivery_id,
                    PENDING,
                ),
            )

    def of_subscription(
        self, tenant: str, subscription_id: str, status: str | None, limit: int
    ) -> list[Delivery]:
        condition = " AND status = ?" if status else ""
        params: tuple[Any, ...] = (tenant, subscription_id, *((status,) if status else ()))
        with self.sql.transaction(commit=False) as sql:
            rows = sql.run(
                f"SELECT * FROM {self.table} WHERE tenant = ? AND subscription_id = ?"
                + condition
                + " ORDER BY position LIMIT ?",
                (*params, limit),
            )
        return [_delivery(row) for row in rows]

    def replay(self, tenant: str, subscription_id: str, delivery: str | None, now: float) -> int:
        """Dead (or skipped) rows back to pending, due now: one, or every dead row."""
        which = "delivery_id = ? AND status IN (?, ?)" if delivery else "status = ?"
        params = (delivery, DEAD, SKIPPED) if delivery else (DEAD,)
        with self.sql.transaction(commit=True) as sql:
            sql.run(
                f"UPDATE {self.table} SET status = ?, attempts = 0, next_attempt_at = ? "
                f"WHERE tenant = ? AND subscription_id = ? AND {which}",
                (PENDING, now, tenant, subscription_id, *params),
            )
            return sql.rowcount

    def skip(self, tenant: str, subscription_id: str, delivery: str) -> int:
        """A pending or dead row given up on, so its subject's later rows go ahead."""
        with self.sql.transaction(commit=True) as sql:
            sql.run(
                f"UPDATE {self.table} SET status = ? WHERE tenant = ? AND subscription_id = ? "
                "AND delivery_id = ? AND status IN (?, ?)",
                (SKIPPED, tenant, subscription_id, delivery, PENDING, DEAD),
            )
            return sql.rowcount

    def drop(self, tenant: str, subscription_id: str) -> None:
        """Forget a deleted subscription's rows."""
        with self.sql.transaction(commit=True) as sql:
            sql.run(
                f"DELETE FROM {self.table} WHERE tenant = ? AND subscription_id = ?",
                (tenant, subscription_id),
            )

    def prune(self, before: float) -> int:
        """Forget delivered and skipped rows last touched before ``before``."""
        with self.sql.transaction(commit=True) as sql:
            sql.run(
                f"DELETE FROM {self.table} WHERE status IN (?, ?) "
                "AND COALESCE(last_attempt_at, created_at) < ?",
                (DELIVERED, SKIPPED, before),
            )
            return sql.rowcount

    def counts(self) -> tuple[dict[str, int], float | None]:
        """Rows by status, and when the oldest pending row was created."""
        with self.sql.transaction(commit=False) as sql:
            rows = sql.run(
                f"SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM {self.table} "
                "GROUP BY status"
            )
        by_status = dict.fromkeys(STATUSES, 0)
        oldest: float | None = None
        for row in rows:
            by_status[row["status"]] = int(row["n"])
            if row["status"] == PENDING and row["oldest"] is not None:
                oldest = float(row["oldest"])
        return by_status, oldest
