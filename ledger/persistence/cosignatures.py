"""Witness cosignatures of the log's checkpoints, beside the checkpoints table.

``<events table>_cosignatures`` (tree size, root hash, cosigner name, the signature line,
when it arrived): append-only like the log's other tables; a cosigner's first
cosignature of a checkpoint is kept, later ones (a retry) are ignored.
``recent_checkpoints`` reads the checkpoints table the sealer writes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Composed, Identifier

from ledger.persistence.postgres_ddl import create_trigger_once, ddl_lock, refuse_change_function

REFUSE_FUNCTION = "consent_ledger_attestation_refuse_change"


@dataclass(frozen=True)
class SignedHead:
    """A checkpoint as the sealer stored it (its own signature only)."""

    tree_size: int
    root_hash: bytes
    note: str


@dataclass(frozen=True)
class KeySpan:
    """The checkpoints one signing key signed: its first (the rotation checkpoint, for
    every key after the first) and its last."""

    public_key: bytes
    first_tree_size: int
    last_tree_size: int
    first_time: datetime
    last_time: datetime
    first_note: str


class CosignatureStore(ABC):
    @abstractmethod
    def create_tables(self) -> None: ...

    @abstractmethod
    def add(self, tree_size: int, root_hash: bytes, cosigner: str, line: str) -> None: ...

    @abstractmethod
    def lines(self, tree_size: int, root_hash: bytes) -> dict[str, str]:
        """The stored cosignature lines of one checkpoint, by cosigner name."""

    @abstractmethod
    def largest_cosigned(self, cosigner: str) -> int:
        """The largest tree size ``cosigner`` cosigned (0: none)."""

    @abstractmethod
    def recent_checkpoints(self, limit: int) -> list[SignedHead]:
        """The latest signed checkpoints, newest first."""

    @abstractmethod
    def key_spans(self) -> list[KeySpan]:
        """Each key that signed checkpoints, in the order they took over."""


class SQLiteCosignatureStore(CosignatureStore):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str) -> None:
        self.datastore = datastore
        self.table = f"{events_table_name}_cosignatures"
        self.checkpoints = f"{events_table_name}_checkpoints"

    def create_tables(self) -> None:
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.table} (tree_size INTEGER NOT NULL, "
            "root_hash BLOB NOT NULL, cosigner TEXT NOT NULL, line TEXT NOT NULL, "
            "received_at TEXT NOT NULL, PRIMARY KEY (tree_size, root_hash, cosigner))",
        ]
        for operation in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {self.table}_no_{operation.lower()} "
                f"BEFORE {operation} ON {self.table} BEGIN SELECT RAISE(ABORT, "
                f"'consent ledger table {self.table} is append-only: {operation} refused'); END"
            )
        with self.datastore.transaction(commit=True) as c:
            for statement in statements:
                c.execute(statement)

    def add(self, tree_size: int, root_hash: bytes, cosigner: str, line: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.table} (tree_size, root_hash, cosigner, line, received_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (tree_size, root_hash, cosigner, line, datetime.now(UTC).isoformat()),
            )

    def lines(self, tree_size: int, root_hash: bytes) -> dict[str, str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT cosigner, line FROM {self.table} WHERE tree_size = ? AND root_hash = ?",
                (tree_size, root_hash),
            )
            return {row["cosigner"]: row["line"] for row in c.fetchall()}

    def largest_cosigned(self, cosigner: str) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT coalesce(max(tree_size), 0) AS size FROM {self.table} WHERE cosigner = ?",
                (cosigner,),
            )
            return int(c.fetchone()["size"])

    def recent_checkpoints(self, limit: int) -> list[SignedHead]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (self.checkpoints,),
            )
            if c.fetchone() is None:  # nothing sealed yet: the Merkle tables come with it
                return []
            c.execute(
                f"SELECT tree_size, root_hash, note FROM {self.checkpoints} "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            return [
                SignedHead(r["tree_size"], bytes(r["root_hash"]), r["note"]) for r in c.fetchall()
            ]

    def key_spans(self) -> list[KeySpan]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT public_key, min(id) AS first_id, max(id) AS last_id FROM "
                f"{self.checkpoints} GROUP BY public_key ORDER BY first_id"
            )
            groups = c.fetchall()
            spans = []
            for group in groups:
                c.execute(
                    f"SELECT tree_size, time, note FROM {self.checkpoints} WHERE id IN (?, ?) "
                    "ORDER BY id",
                    (group["first_id"], group["last_id"]),
                )
                rows = c.fetchall()
                first, last = rows[0], rows[-1]
                spans.append(
                    KeySpan(
                        bytes(group["public_key"]),
                        first["tree_size"],
                        last["tree_size"],
                        datetime.fromisoformat(first["time"]).astimezone(UTC),
                        datetime.fromisoformat(last["time"]).astimezone(UTC),
                        first["note"],
                    )
                )
            return spans


class PostgresCosignatureStore(CosignatureStore):
    def __init__(self, datastore: PostgresDatastore, events_table_name: str) -> None:
        self.datastore = datastore
        self.table = f"{events_table_name}_cosignatures"
        self.checkpoints = f"{events_table_name}_checkpoints"
        self.ddl_lock_name = f"consent-ledger-ddl:{events_table_name}"

    def _q(self, template: str) -> Composed:
        return SQL(template).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.table),
            checkpoints=Identifier(self.checkpoints),
        )

    def create_tables(self) -> None:
        statements = [
            self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} (tree_size bigint NOT NULL, "
                "root_hash bytea NOT NULL, cosigner text NOT NULL, line text NOT NULL, "
                "received_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (tree_size, root_hash, cosigner))"
            ),
            refuse_change_function(self.datastore.schema, REFUSE_FUNCTION),
            create_trigger_once(
                self.datastore.schema,
                self.table,
                f"{self.table}_append_only",
                "BEFORE UPDATE OR DELETE OR TRUNCATE",
                REFUSE_FUNCTION,
            ),
        ]
        with (
            ddl_lock(self.datastore, self.ddl_lock_name) as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            for statement in statements:
                curs.execute(statement)

    def add(self, tree_size: int, root_hash: bytes, cosigner: str, line: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._q(
                    "INSERT INTO {schema}.{table} (tree_size, root_hash, cosigner, line) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
                ),
                (tree_size, root_hash, cosigner, line),
            )

    def lines(self, tree_size: int, root_hash: bytes) -> dict[str, str]:
        statement = self._q(
            "SELECT cosigner, line FROM {schema}.{table} WHERE tree_size = %s AND root_hash = %s"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (tree_size, root_hash))
            return {row["cosigner"]: row["line"] for row in curs.fetchall()}

    def largest_cosigned(self, cosigner: str) -> int:
        statement = self._q(
            "SELECT coalesce(max(tree_size), 0) AS size FROM {schema}.{table} WHERE cosigner = %s"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (cosigner,))
            row = curs.fetchone()
        return int(row["size"]) if row else 0

    def recent_checkpoints(self, limit: int) -> list[SignedHead]:
        statement = self._q(
            "SELECT tree_size, root_hash, note FROM {schema}.{checkpoints} "
            "ORDER BY id DESC LIMIT %s"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT to_regclass(%s) IS NOT NULL AS present",
                (f'"{self.datastore.schema}"."{self.checkpoints}"',),
            )
            found = curs.fetchone()
            if found is None or not found["present"]:  # nothing sealed yet
                return []
            curs.execute(statement, (limit,))
            return [
                SignedHead(r["tree_size"], bytes(r["root_hash"]), r["note"])
                for r in curs.fetchall()
            ]

    def key_spans(self) -> list[KeySpan]:
        statement = self._q(
            "WITH spans AS (SELECT public_key, min(id) AS first_id, max(id) AS last_id "
            "FROM {schema}.{checkpoints} GROUP BY public_key) "
            "SELECT s.public_key, f.tree_size AS first_size, l.tree_size AS last_size, "
            "f.time AS first_time, l.time AS last_time, f.note AS first_note FROM spans s "
            "JOIN {schema}.{checkpoints} f ON f.id = s.first_id "
            "JOIN {schema}.{checkpoints} l ON l.id = s.last_id ORDER BY s.first_id"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            return [
                KeySpan(
                    bytes(r["public_key"]),
                    r["first_size"],
                    r["last_size"],
                    r["first_time"],
                    r["last_time"],
                    r["first_note"],
                )
                for r in curs.fetchall()
            ]
