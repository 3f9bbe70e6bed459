"""The attestation log's tables in the embedded SQLite file: append-only, one writer.

SQLite serialises writers itself. ``append`` writes before it reads, so its transaction
holds the write lock from its first statement; the leaf index primary key refuses a
stale sealer (its first leaf index is already taken).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.sqlite import SQLiteDatastore

from ledger.crypto.merkle import NewNode, NodeKey
from ledger.persistence.merkle_store import (
    CheckpointConflict,
    Leaf,
    LogHead,
    MerkleStore,
    StoredCheckpoint,
)

CHUNK = 400  # SQLite's default limit on bound parameters is 999 (32766 since 3.32)


def _leaf(row: Any) -> Leaf:
    return Leaf(
        leaf_index=row["leaf_index"],
        notification_id=row["notification_id"],
        subject_id=UUID(row["originator_id"]),
        version=row["originator_version"],
        leaf_hash=bytes(row["leaf_hash"]),
    )


class SQLiteMerkleStore(MerkleStore):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str) -> None:
        self.datastore = datastore
        self.leaves = f"{events_table_name}_merkle_leaves"
        self.nodes_table = f"{events_table_name}_merkle_nodes"
        self.checkpoints = f"{events_table_name}_checkpoints"

    def create_tables(self) -> None:
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.leaves} (leaf_index INTEGER PRIMARY KEY, "
            "notification_id INTEGER NOT NULL UNIQUE, originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, leaf_hash BLOB NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.leaves}_subject ON {self.leaves} "
            "(originator_id, originator_version)",
            f"CREATE TABLE IF NOT EXISTS {self.nodes_table} (level INTEGER NOT NULL, "
            "idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints} (id INTEGER PRIMARY KEY "
            "AUTOINCREMENT, tree_size INTEGER NOT NULL, root_hash BLOB NOT NULL, "
            "time TEXT NOT NULL, origin TEXT NOT NULL, public_key BLOB NOT NULL, "
            "note TEXT NOT NULL)",
        ]
        for table in (self.leaves, self.nodes_table, self.checkpoints):
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
                    f"BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'consent ledger table {table} is append-only: {operation} refused'); END"
                )
        with self.datastore.transaction(commit=True) as c:
            for statement in statements:
                c.execute(statement)

    def head(self) -> LogHead:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT leaf_index, notification_id FROM {self.leaves} "
                "ORDER BY leaf_index DESC LIMIT 1"
            )
            row = c.fetchone()
        if row is None:
            return LogHead(size=0, last_notification_id=None)
        return LogHead(size=row["leaf_index"] + 1, last_notification_id=row["notification_id"])

    def nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        wanted = sorted(set(keys))
        found: dict[NodeKey, bytes] = {}
        leaf_indexes = [index for level, index in wanted if level == 0]
        inner = [(level, index) for level, index in wanted if level > 0]
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(leaf_indexes), CHUNK):
                chunk = leaf_indexes[start : start + CHUNK]
                c.execute(
                    f"SELECT leaf_index, leaf_hash FROM {self.leaves} "
                    f"WHERE leaf_index IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update({(0, r["leaf_index"]): bytes(r["leaf_hash"]) for r in c.fetchall()})
            for start in range(0, len(inner), CHUNK):
                pairs = inner[start : start + CHUNK]
                c.execute(
                    f"SELECT level, idx, hash FROM {self.nodes_table} "
                    f"WHERE (level, idx) IN (VALUES {','.join(['(?, ?)'] * len(pairs))})",
                    [value for pair in pairs for value in pair],
                )
                found.update({(r["level"], r["idx"]): bytes(r["hash"]) for r in c.fetchall()})
        return found

    def append(self, expected_size: int, leaves: Sequence[Leaf], nodes: Sequence[NewNode]) -> None:
        if leaves and leaves[0].leaf_index != expected_size:
            raise ValueError("the first new leaf must have index expected_size")
        try:
            with self.datastore.transaction(commit=True) as c:
                c.executemany(
                    f"INSERT INTO {self.leaves} (leaf_index, notification_id, originator_id, "
                    "originator_version, leaf_hash) VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            leaf.leaf_index,
                            leaf.notification_id,
                            leaf.subject_id.hex,
                            leaf.version,
                            leaf.leaf_hash,
                        )
                        for leaf in leaves
                    ],
                )
                c.execute(f"SELECT coalesce(max(leaf_index) + 1, 0) AS size FROM {self.leaves}")
                if c.fetchone()["size"] != expected_size + len(leaves):
                    raise CheckpointConflict(f"the log had grown past {expected_size} leaves")
                c.executemany(
                    f"INSERT INTO {self.nodes_table} (level, idx, hash) VALUES (?, ?, ?)",
                    [(n.level, n.index, n.hash) for n in nodes if n.level > 0],
                )
        except IntegrityError as error:
            raise CheckpointConflict(
                f"the log had grown past {expected_size} leaves: {error}"
            ) from None

    def leaves_of(self, subject_id: UUID) -> list[Leaf]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.leaves} WHERE originator_id = ? ORDER BY originator_version",
                (subject_id.hex,),
            )
            return [_leaf(row) for row in c.fetchall()]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT * FROM {self.checkpoints} ORDER BY id DESC LIMIT 1")
            row = c.fetchone()
        if row is None:
            return None
        return StoredCheckpoint(
            tree_size=row["tree_size"],
            root_hash=bytes(row["root_hash"]),
            time=datetime.fromisoformat(row["time"]).astimezone(UTC),
            origin=row["origin"],
            public_key=bytes(row["public_key"]),
            note=row["note"],
        )

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.checkpoints} "
                "(tree_size, root_hash, time, origin, public_key, note) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    checkpoint.tree_size,
                    checkpoint.root_hash,
                    checkpoint.time.astimezone(UTC).isoformat(),
                    checkpoint.origin,
                    checkpoint.public_key,
                    checkpoint.note,
                ),
            )
            c.execute(f"SELECT max(tree_size) AS size FROM {self.checkpoints}")
            if c.fetchone()["size"] > checkpoint.tree_size:
                raise CheckpointConflict("a larger checkpoint is already signed")
