"""The ``consent_daily`` read model: per tenant, day and channel, how many people opted
in and out, by capture method and keyword.

Opt-ins are ``opted_in`` and ``opt_in_accepted``; opt-outs are ``opted_out`` and
``held_opt_out_released`` (a gateway's opt-out an admin released after a hold). The day is
the UTC date the event *occurred* (a late delivery counts on the day it happened). The
engine applies each event once per subject version, so the counters never double-count a
redelivery.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ledger.events import HeldOptOutReleased, OptedIn, OptedOut, OptInAccepted
from projections.database import Cursor
from projections.read_model import BatchChanges, ReadModel
from projections.subject_projection import SubjectProjection

OPT_IN, OPT_OUT = "opt_in", "opt_out"


@dataclass(frozen=True)
class DailyCount:
    tenant: str
    day: str  # YYYY-MM-DD
    channel: str
    kind: str  # opt_in | opt_out
    method: str
    keyword: str
    count: int


class ConsentDailyModel(ReadModel):
    name = "consent_daily"

    @property
    def tables(self) -> tuple[str, ...]:
        return ("consent_daily",)

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t('consent_daily')} (tenant TEXT NOT NULL, "
            "day TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL, method TEXT NOT NULL, "
            f"keyword TEXT NOT NULL, count {self.db.int_type} NOT NULL, "
            f"CONSTRAINT consent_daily{self.suffix}_pkey "
            "PRIMARY KEY (tenant, day, channel, kind, method, keyword))"
        ]

    def write(self, cursor: Cursor, changes: BatchChanges) -> None:
        counts: Counter[tuple[str, str, str, str, str, str]] = Counter()
        for applied in changes.events:
            event = applied.event
            if isinstance(event, OptedIn | OptInAccepted):
                kind = OPT_IN
            elif isinstance(event, OptedOut | HeldOptOutReleased):
                kind = OPT_OUT
            else:
                continue
            day = event.occurred_at.date().isoformat()
            method = str(event.evidence.get("method") or "")
            keyword = str(event.evidence.get("keyword") or "")
            counts[(event.tenant, day, event.channel, kind, method, keyword)] += 1
        table = self.t("consent_daily")
        cursor.insert_rows(
            f"INSERT INTO {table} (tenant, day, channel, kind, method, keyword, count)",
            ("text", "text", "text", "text", "text", "text", "bigint"),
            [(*key, n) for key, n in sorted(counts.items())],
            "ON CONFLICT (tenant, day, channel, kind, method, keyword) "
            f"DO UPDATE SET count = {table}.count + excluded.count",
        )

    def counts(self, cursor: Cursor, tenant: str) -> list[DailyCount]:
        rows = cursor.execute(
            f"SELECT * FROM {self.t('consent_daily')} WHERE tenant = ? "
            "ORDER BY day, channel, kind, method, keyword",
            (tenant,),
        ).fetchall()
        return [
            DailyCount(
                tenant=r["tenant"],
                day=r["day"],
                channel=r["channel"],
                kind=r["kind"],
                method=r["method"],
                keyword=r["keyword"],
                count=int(r["count"]),
            )
            for r in rows
        ]


class ConsentDailyProjection(SubjectProjection):
    model: ConsentDailyModel

    def counts(self, tenant: str) -> list[DailyCount]:
        with self.db.read() as cursor:
            return self.model.counts(cursor, tenant)
