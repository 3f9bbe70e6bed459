"""The writer's round trips to PostgreSQL: one to read a group's needs, one to commit it.

Each thread that calls (the writer's reader, its committer, the announcer) gets a
connection of its own, opened outside the library's pool with a short connect timeout:
when the database is down the call fails at once instead of queuing for the pool, so
requests are refused within the bound README promises.

``read`` sends three statements in one pipeline (one network round trip), inside one
repeatable-read transaction: receipts by (tenant, kind, id), each subject's events after
the version the writer knows, and data keys. ``commit`` sends ``LOCK TABLE … IN
EXCLUSIVE MODE``, the inserts of events (``unnest`` of binary arrays), receipts, data
keys, outbox rows and ``COMMIT`` in one pipeline: no Python runs while the table lock is
held. ``NOTIFY`` is not part of it: ``notify`` runs after the commit, on its own
connection, so the global notify lock is never held with the table lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Composed, Identifier

from ledger.domain.receipts import Receipt
from ledger.persistence.store import GroupRead, GroupReads, RowsBeside

# How long the writer waits for a connection, and for the events table's lock.
CONNECT_TIMEOUT_SECONDS = 2
LOCK_TIMEOUT = "5s"

T = TypeVar("T")


@contextmanager
def persistence_errors() -> Iterator[None]:
    """psycopg's errors as the library's, so the retry policy sees one vocabulary."""
    try:
        yield
    except psycopg.IntegrityError as e:
        raise IntegrityError(str(e)) from e
    except psycopg.DataError as e:
        raise DataError(str(e)) from e
    except (psycopg.OperationalError, psycopg.errors.LockNotAvailable) as e:
        raise OperationalError(str(e)) from e
    except psycopg.InterfaceError as e:
        raise InterfaceError(str(e)) from e
    except psycopg.InternalError as e:
        raise InternalError(str(e)) from e
    except psycopg.ProgrammingError as e:
        raise ProgrammingError(str(e)) from e
    except psycopg.Error as e:
        raise PersistenceError(str(e)) from e


class PostgresGroupIO:
    def __init__(
        self,
        conninfo: dict[str, Any],
        *,
        schema: str,
        events: str,
        receipts: str,
        keys: str,
        outbox: str,
        channel: str,
    ) -> None:
        self.conninfo = conninfo
        self._local = threading.local()

        def q(template: str) -> Composed:
            return SQL(template).format(
                events=Identifier(schema, events),
                receipts=Identifier(schema, receipts),
                keys=Identifier(schema, keys),
                outbox=Identifier(schema, outbox),
                channel=Identifier(channel),
            )

        self.read_receipts = q(
            "SELECT r.*, e.notification_id AS position "
            "FROM unnest(%b::text[], %b::text[], %b::text[]) "
            "AS k(tenant, source_kind, source_id) JOIN {receipts} r USING "
            "(tenant, source_kind, source_id) LEFT JOIN {events} e "
            "ON e.originator_id = r.subject_id AND e.originator_version = r.version"
        )
        self.read_events = q(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%b::uuid[], %b::bigint[]) AS k(id, known) JOIN {events} e "
            "ON e.originator_id = k.id AND e.originator_version > k.known "
            "ORDER BY e.originator_id, e.originator_version"
        )
        self.read_keys = q("SELECT subject_id, data_key FROM {keys} WHERE subject_id = ANY(%b)")
        self.lock = q("LOCK TABLE {events} IN EXCLUSIVE MODE")
        self.lock_timeout = SQL("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'")
        self.erase_keys = q("DELETE FROM {keys} WHERE subject_id = ANY(%b)")
        self.erase_outbox = q("DELETE FROM {outbox} WHERE subject_id = ANY(%b)")
        self.insert_outbox = q(
            "INSERT INTO {outbox} (tenant, channel, subject_id, event_id, kind, payload) "
            "SELECT * FROM unnest(%b::text[], %b::text[], %b::uuid[], %b::uuid[], %b::text[], "
            "%b::text[])"
        )
        self.insert_keys = q(
            "INSERT INTO {keys} (subject_id, data_key) "
            "SELECT * FROM unnest(%b::uuid[], %b::bytea[])"
        )
        self.insert_receipts = q(
            "INSERT INTO {receipts} (tenant, source_kind, source_id, subject_id, event_id, "
            "version, type) SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], "
            "%b::uuid[], %b::uuid[], %b::bigint[], %b::text[])"
        )
        self.insert_events = q(
            "INSERT INTO {events} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING originator_id, originator_version, notification_id"
        )
        self.notify = q("NOTIFY {channel}")

    # ------------------------------------------------------------------ connections
    def _run(self, work: Callable[[psycopg.Connection[DictRow]], T]) -> T:
        """``work`` on this thread's own connection, with psycopg's errors as the library's.

        A connection kept from before may have died with its server (a restart): if it
        fails, the work is tried once more on a new connection; a new one that fails is
        the database's answer.
        """
        with persistence_errors():
            conn, fresh = self._connection()
            try:
                return work(conn)
            except psycopg.OperationalError:
                conn.close()
                if fresh:
                    raise
            except BaseException:
                if conn.broken or conn.info.transaction_status != 0:  # not idle: start afresh
                    conn.close()
                raise
            conn, _ = self._connection()
            try:
                return work(conn)
            except BaseException:
                conn.close()
                raise

    def _connection(self) -> tuple[psycopg.Connection[DictRow], bool]:
        """This thread's connection, and whether it was opened just now."""
        conn: psycopg.Connection[DictRow] | None = getattr(self._local, "conn", None)
        if conn is not None and not (conn.closed or conn.broken):
            return conn, False
        conn = psycopg.connect(
            **self.conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            row_factory=dict_row,
        )
        conn.execute("SET plan_cache_mode = force_custom_plan")
        self._local.conn = conn
        return conn, True

    def close(self) -> None:
        conn: psycopg.Connection[DictRow] | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()

    # ------------------------------------------------------------------ round trips
    def read(self, request: GroupRead) -> GroupReads:
        return self._run(lambda conn: self._read(conn, request))

    def commit(self, stored: Sequence[StoredEvent], beside: RowsBeside) -> list[int]:
        return self._run(lambda conn: self._commit(conn, stored, beside))

    def announce(self) -> None:
        self._run(lambda conn: conn.execute(self.notify))

    def _read(self, conn: psycopg.Connection[DictRow], request: GroupRead) -> GroupReads:
        tenants, kinds, ids = [], [], []
        for tenant, keys in request.receipts.items():
            for kind, source_id in keys:
                tenants.append(tenant)
                kinds.append(kind)
                ids.append(source_id)
        subjects = list(request.subjects)
        with conn.pipeline(), conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            receipts = conn.cursor()
            if ids:
                receipts.execute(self.read_receipts, (tenants, kinds, ids))
            events = conn.cursor()
            events.execute(self.read_events, (subjects, [request.subjects[s] for s in subjects]))
            key_rows = conn.cursor()
            key_rows.execute(self.read_keys, (subjects,))
        found: dict[str, dict[tuple[str, str], Receipt]] = {t: {} for t in request.receipts}
        if ids:
            for row in receipts.fetchall():
                receipt = Receipt(**row)
                found[receipt.tenant][receipt.key] = receipt
        newer: dict[UUID, list[StoredEvent]] = {sid: [] for sid in subjects}
        for row in events.fetchall():
            newer[row["originator_id"]].append(
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
            )
        data_keys = {r["subject_id"]: bytes(r["data_key"]) for r in key_rows.fetchall()}
        return GroupReads(found, newer, data_keys)

    def _commit(
        self, conn: psycopg.Connection[DictRow], stored: Sequence[StoredEvent], beside: RowsBeside
    ) -> list[int]:
        inserted = conn.cursor()
        with conn.pipeline(), conn.transaction():
            conn.execute(self.lock_timeout)
            # The lock first: every writer takes the locks in one order, and outbox ids,
            # like positions, follow commit order.
            conn.execute(self.lock)
            self._beside(conn, beside)
            if stored:
                inserted.execute(
                    self.insert_events,
                    (
                        [e.originator_id for e in stored],
                        [e.originator_version for e in stored],
                        [e.topic for e in stored],
                        [e.state for e in stored],
                    ),
                )
        if not stored:
            return []
        found = {
            (row["originator_id"], row["originator_version"]): row["notification_id"]
            for row in inserted.fetchall()
        }
        return [found[(e.originator_id, e.originator_version)] for e in stored]

    def _beside(self, conn: psycopg.Connection[DictRow], beside: RowsBeside) -> None:
        if beside.erase_keys:
            erased = list(beside.erase_keys)
            conn.execute(self.erase_keys, (erased,))
            # Messages not yet sent to an erased subject go too (a help reply holds the
            # address in clear).
            conn.execute(self.erase_outbox, (erased,))
        if beside.outbox:
            rows = beside.outbox
            conn.execute(
                self.insert_outbox,
                (
                    [m.tenant for m in rows],
                    [m.channel for m in rows],
                    [m.subject_id for m in rows],
                    [m.event_id for m in rows],
                    [m.kind for m in rows],
                    [m.payload for m in rows],
                ),
            )
        if beside.new_keys:
            conn.execute(self.insert_keys, (list(beside.new_keys), list(beside.new_keys.values())))
        if beside.receipts:
            receipts = beside.receipts
            conn.execute(
                self.insert_receipts,
                (
                    [r.tenant for r in receipts],
                    [r.source_kind for r in receipts],
                    [r.source_id for r in receipts],
                    [r.subject_id for r in receipts],
                    [r.event_id for r in receipts],
                    [r.version for r in receipts],
                    [r.type for r in receipts],
                ),
            )
