"""How far each projection got, written in the same transaction as its rows.

Two records per projection:

- ``position``: the ledger position up to which *every* event has been applied (a low
  watermark). The in-process runner reads the log in order, so it is simply the last
  notification it applied. Fed from Kafka, where one subject's events arrive on one
  partition in any interleaving with others, it is advanced by the reconciliation, which
  checks the ledger's log against the projection's subject versions. ``?after=`` waits on
  it, so a read that passes a write's position sees that write.
- ``offsets``: per Kafka (topic, partition), the last offset applied. The consumer seeks
  there on assignment; anything at or below is a redelivery and is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from projections.database import Cursor, ProjectionDatabase

POSITIONS = "projection_positions"
OFFSETS = "projection_offsets"

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class Checkpoint:
    offsets: Mapping[TopicPartition, int] = field(default_factory=dict)
    position: int | None = None


class Checkpoints:
    def __init__(self, db: ProjectionDatabase) -> None:
        self.db = db

    def create_statements(self) -> list[str]:
        db = self.db
        return [
            f"CREATE TABLE IF NOT EXISTS {db.table(POSITIONS)} (projection TEXT PRIMARY KEY, "
            f"position {db.int_type} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {db.table(OFFSETS)} (projection TEXT NOT NULL, "
            f"topic TEXT NOT NULL, partition {db.int_type} NOT NULL, "
            f"kafka_offset {db.int_type} NOT NULL, PRIMARY KEY (projection, topic, partition))",
        ]

    def save(self, cursor: Cursor, projection: str, checkpoint: Checkpoint) -> None:
        if checkpoint.position is not None:
            self.advance_in(cursor, projection, checkpoint.position)
        offsets = self.db.table(OFFSETS)
        cursor.insert_rows(
            f"INSERT INTO {offsets} (projection, topic, partition, kafka_offset)",
            ("text", "text", "bigint", "bigint"),
            [(projection, t, p, o) for (t, p), o in checkpoint.offsets.items()],
            "ON CONFLICT (projection, topic, partition) DO UPDATE "
            f"SET kafka_offset = excluded.kafka_offset WHERE {offsets}.kafka_offset "
            "< excluded.kafka_offset",
        )

    def advance_in(self, cursor: Cursor, projection: str, position: int) -> None:
        positions = self.db.table(POSITIONS)
        cursor.execute(
            f"INSERT INTO {positions} (projection, position) VALUES (?, ?) "
            "ON CONFLICT (projection) DO UPDATE SET position = excluded.position "
            f"WHERE {positions}.position < excluded.position",
            (projection, position),
        )

    def advance(self, projection: str, position: int) -> None:
        with self.db.write() as cursor:
            self.advance_in(cursor, projection, position)

    def position(self, projection: str) -> int:
        with self.db.read() as cursor:
            return self.positions_in(cursor, [projection])[projection]

    def positions_in(self, cursor: Cursor, projections: Sequence[str]) -> dict[str, int]:
        """Each projection's position, read in the caller's transaction (0: none yet)."""
        where, params = self.db.in_list("projection", "text", projections)
        rows = cursor.execute(
            f"SELECT projection, position FROM {self.db.table(POSITIONS)} WHERE {where}", params
        ).fetchall()
        found = {str(row["projection"]): int(row["position"]) for row in rows}
        return {name: found.get(name, 0) for name in projections}

    def offsets(self, projection: str) -> dict[TopicPartition, int]:
        with self.db.read() as cursor:
            rows = cursor.execute(
                f"SELECT topic, partition, kafka_offset FROM {self.db.table(OFFSETS)} "
                "WHERE projection = ?",
                (projection,),
            ).fetchall()
        return {(r["topic"], int(r["partition"])): int(r["kafka_offset"]) for r in rows}

    def forget(self, cursor: Cursor, projection: str) -> None:
        for table in (POSITIONS, OFFSETS):
            cursor.execute(
                f"DELETE FROM {self.db.table(table)} WHERE projection = ?", (projection,)
            )
