"""The attestation log's tables in PostgreSQL: append-only, written by one sealer at a time."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from ledger.crypto.merkle import NewNode, NodeKey
from ledger.persistence.merkle_store import (
    CheckpointConflict,
    Leaf,
    LogHead,
    MerkleStore,
    StoredCheckpoint,
)
from ledger.persistence.postgres_ddl import (
    create_trigger_once,
    ddl_lock,
    owned_by_another_role,
    refuse_change_function,
)

REFUSE_FUNCTION = "consent_ledger_attestation_refuse_change"


def _leaf(row: DictRow) -> Leaf:
    return Leaf(
        leaf_index=row["leaf_index"],
        notification_id=row["notification_id"],
        subject_id=row["originator_id"],
        version=row["originator_version"],
        leaf_hash=bytes(row["leaf_hash"]),
    )


class PostgresMerkleStore(MerkleStore):
    def __init__(self, datastore: PostgresDatastore, events_table_name: str) -> None:
        self.datastore = datastore
        self.leaves_table = f"{events_table_name}_merkle_leaves"
        self.nodes_table = f"{events_table_name}_merkle_nodes"
        self.checkpoints_table = f"{events_table_name}_checkpoints"
        self.lock_key = zlib.crc32(f"consent-ledger-sealer:{events_table_name}".encode())
        self.ddl_lock_name = f"consent-ledger-ddl:{events_table_name}"

    def _q(self, template: str, **names: str) -> Composed:
        identifiers = {
            "schema": self.datastore.schema,
            "leaves": self.leaves_table,
            "nodes": self.nodes_table,
            "checkpoints": self.checkpoints_table,
            **names,
        }
        return SQL(template).format(**{k: Identifier(v) for k, v in identifiers.items()})

    def create_tables(self) -> None:
        statements = [
            self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.{leaves} (leaf_index bigint PRIMARY KEY, "
                "notification_id bigint NOT NULL UNIQUE, originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, leaf_hash bytea NOT NULL)"
            ),
            self._q(
                "CREATE INDEX IF NOT EXISTS {index} ON {schema}.{leaves} "
                "(originator_id, originator_version)",
                index=f"{self.leaves_table}_subject",
            ),
            self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.{nodes} (level smallint NOT NULL, "
                "idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (level, idx))"
            ),
            self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.{checkpoints} (id bigserial PRIMARY KEY, "
                "tree_size bigint NOT NULL, root_hash bytea NOT NULL, time timestamptz NOT NULL, "
                "origin text NOT NULL, public_key bytea NOT NULL, note text NOT NULL)"
            ),
            refuse_change_function(self.datastore.schema, REFUSE_FUNCTION),
        ]
        statements += [
            create_trigger_once(
                self.datastore.schema,
                table,
                f"{table}_append_only",
                "BEFORE UPDATE OR DELETE OR TRUNCATE",
                REFUSE_FUNCTION,
            )
            for table in (self.leaves_table, self.nodes_table, self.checkpoints_table)
        ]
        # Several processes start at once (API, sealer): serialise their DDL.
        with (
            ddl_lock(self.datastore, self.ddl_lock_name) as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            if owned_by_another_role(conn, self.datastore.schema, self.checkpoints_table):
                return  # the owner role created the tables (docs/sql/roles.sql)
            for statement in statements:
                curs.execute(statement)

    def head(self) -> LogHead:
        statement = self._q(
            "SELECT leaf_index, notification_id FROM {schema}.{leaves} "
            "ORDER BY leaf_index DESC LIMIT 1"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            row = curs.fetchone()
        if row is None:
            return LogHead(size=0, last_notification_id=None)
        return LogHead(size=row["leaf_index"] + 1, last_notification_id=row["notification_id"])

    def nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        wanted = set(keys)
        if not wanted:
            return {}
        leaf_indexes = [index for level, index in wanted if level == 0]
        inner = [(level, index) for level, index in wanted if level > 0]
        statement = self._q(
            "SELECT 0 AS level, leaf_index AS idx, leaf_hash AS hash FROM {schema}.{leaves} "
            "WHERE leaf_index = ANY(%s::bigint[]) UNION ALL "
            "SELECT n.level, n.idx, n.hash FROM {schema}.{nodes} n "
            "JOIN unnest(%s::smallint[], %s::bigint[]) AS k(level, idx) "
            "ON n.level = k.level AND n.idx = k.idx"
        )
        params = (leaf_indexes, [level for level, _ in inner], [index for _, index in inner])
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params)
            return {(r["level"], r["idx"]): bytes(r["hash"]) for r in curs}

    def append(self, expected_size: int, leaves: Sequence[Leaf], nodes: Sequence[NewNode]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_try_advisory_xact_lock(%s) AS locked", (self.lock_key,))
            row = curs.fetchone()
            if row is None or not row["locked"]:
                raise CheckpointConflict("another sealer holds the log's lock")
            curs.execute(
                self._q("SELECT coalesce(max(leaf_index) + 1, 0) AS size FROM {schema}.{leaves}")
            )
            row = curs.fetchone()
            if row is None or row["size"] != expected_size:
                raise CheckpointConflict(f"the log grew past {expected_size} leaves meanwhile")
            with curs.copy(
                self._q(
                    "COPY {schema}.{leaves} (leaf_index, notification_id, originator_id, "
                    "originator_version, leaf_hash) FROM STDIN"
                )
            ) as copy:
                for leaf in leaves:
                    copy.write_row(
                        (
                            leaf.leaf_index,
                            leaf.notification_id,
                            leaf.subject_id,
                            leaf.version,
                            leaf.leaf_hash,
                        )
                    )
            with curs.copy(self._q("COPY {schema}.{nodes} (level, idx, hash) FROM STDIN")) as copy:
                for node in nodes:
                    if node.level > 0:
                        copy.write_row((node.level, node.index, node.hash))

    def leaves_of(self, subject_id: UUID) -> list[Leaf]:
        statement = self._q(
            "SELECT * FROM {schema}.{leaves} WHERE originator_id = %s ORDER BY originator_version"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (subject_id,))
            return [_leaf(row) for row in curs.fetchall()]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        statement = self._q(
            "SELECT tree_size, root_hash, time, origin, public_key, note "
            "FROM {schema}.{checkpoints} ORDER BY id DESC LIMIT 1"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            row = curs.fetchone()
        if row is None:
            return None
        return StoredCheckpoint(
            tree_size=row["tree_size"],
            root_hash=bytes(row["root_hash"]),
            time=row["time"],
            origin=row["origin"],
            public_key=bytes(row["public_key"]),
            note=row["note"],
        )

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
            curs.execute(self._q("SELECT max(tree_size) AS size FROM {schema}.{checkpoints}"))
            row = curs.fetchone()
            if row is not None and row["size"] is not None and row["size"] > checkpoint.tree_size:
                raise CheckpointConflict(f"a checkpoint of {row['size']} leaves is already signed")
            curs.execute(
                self._q(
                    "INSERT INTO {schema}.{checkpoints} "
                    "(tree_size, root_hash, time, origin, public_key, note) "
                    "VALUES (%s, %s, %s, %s, %s, %s)"
                ),
                (
                    checkpoint.tree_size,
                    checkpoint.root_hash,
                    checkpoint.time,
                    checkpoint.origin,
                    checkpoint.public_key,
                    checkpoint.note,
                ),
            )
