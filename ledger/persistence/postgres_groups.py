"""The writer's round trips to PostgreSQL: one to read a group's needs, one to commit it.

The writer's reader, its committer and its announcer each have a connection of their own
(asynchronous, on the writer's event loop), opened outside the library's pool with a
short connect timeout:
when the database is down the call fails at once instead of queuing for the pool, so
requests are refused within the bound README promises.

``read`` is one statement (one snapshot, no transaction to open): receipts by (tenant,
kind, id), each subject's events after the version the writer knows, and data keys, as
rows of one shape. ``commit`` sends ``LOCK TABLE … IN EXCLUSIVE MODE``, any erasures,
one statement that inserts the outbox rows, data keys, receipts and contact links (as
data-modifying ``WITH`` parts, each table's rows one JSON text) and the events (``unnest``
of binary arrays), and
``COMMIT`` in one pipeline: no Python runs while the table lock is held. ``NOTIFY`` is not
part of it: ``notify`` runs after the commit, on its own connection, so the global notify
lock is never held with the table lock.

Each command in psycopg's asynchronous pipeline costs the client ~40-60 µs of CPU, and a
pipelined transaction ~300 µs more (measured on the development machine); a group's read
was six commands (968 µs of CPU for six receipts and six subjects) and is one (381 µs);
a new person's commit was nine and is four.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar
from uuid import UUID

import orjson
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
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Composed, Identifier

from ledger.domain.receipts import Receipt
from ledger.persistence.postgres_factory import OLTP_SESSION
from ledger.persistence.store import GroupRead, GroupReads, RowsBeside

BEGIN, COMMIT, ROLLBACK = SQL("BEGIN"), SQL("COMMIT"), SQL("ROLLBACK")
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
        contacts: str,
    ) -> None:
        self.conninfo = conninfo
        self._connections: dict[str, psycopg.AsyncConnection[DictRow]] = {}

        def q(template: str) -> Composed:
            return SQL(template).format(
                events=Identifier(schema, events),
                receipts=Identifier(schema, receipts),
                keys=Identifier(schema, keys),
                outbox=Identifier(schema, outbox),
                contacts=Identifier(schema, contacts),
                channel=Identifier(channel),
            )

        # Each read is a LATERAL lookup per key: an index probe whatever the planner
        # believes about the table's size (with stale statistics it chose to scan the
        # whole events table for every group: O(ledger) per write). ``OFFSET 0`` keeps
        # each lookup a subquery run per key: without it PostgreSQL flattens it into a
        # join, and, taking json_to_recordset for 100 rows (its fixed estimate, where a
        # group has a few), hashed the whole keys and receipts tables for every group
        # until they outgrew ~90,000 rows (seen: ~2,500 rows read per group with 5,000
        # subjects stored; in ``make bench`` most of PostgreSQL's CPU per write).
        # The keys come as one JSON text each (see ``_json``).
        receipts_of_keys = (
            "FROM json_to_recordset(%s::json) "
            "AS k(tenant text, source_kind text, source_id text) CROSS JOIN LATERAL (SELECT * FROM "
            "{receipts} x WHERE x.tenant = k.tenant AND x.source_kind = k.source_kind "
            "AND x.source_id = k.source_id OFFSET 0) r"
        )
        events_after = (
            "FROM json_to_recordset(%s::json) AS k(id uuid, known bigint) CROSS JOIN LATERAL "
            "(SELECT * FROM {events} x WHERE x.originator_id = k.id "
            "AND x.originator_version > k.known ORDER BY x.originator_version OFFSET 0) e"
        )
        keys_of = (
            "FROM json_to_recordset(%s::json) AS k(id uuid, known bigint) "
            "CROSS JOIN LATERAL (SELECT * FROM {keys} x WHERE x.subject_id = k.id OFFSET 0) s"
        )
        self.read_events = q(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state " + events_after
        )
        # A group's three reads as one statement (one snapshot, no transaction to open
        # and close, one command instead of six): one row shape, ``part`` says which.
        self.read_group = q(
            "SELECT 0::int2 AS part, r.subject_id AS subject, r.version, r.event_id, "
            "(SELECT e.notification_id FROM {events} e WHERE e.originator_id = r.subject_id "
            "AND e.originator_version = r.version) AS position, r.tenant, r.source_kind, "
            "r.source_id, r.type AS text, NULL::bytea AS data "
            + receipts_of_keys
            + " UNION ALL SELECT 1::int2, e.originator_id, e.originator_version, NULL::uuid, "
            "NULL::bigint, NULL::text, NULL::text, NULL::text, e.topic, e.state "
            + events_after
            + " UNION ALL SELECT 2::int2, s.subject_id, NULL::bigint, NULL::uuid, "
            "NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text, s.data_key " + keys_of
        )
        self.lock = q("LOCK TABLE {events} IN EXCLUSIVE MODE")
        self.erase_keys = q("DELETE FROM {keys} WHERE subject_id = ANY(%b)")
        self.erase_outbox = q("DELETE FROM {outbox} WHERE subject_id = ANY(%b)")
        self.erase_contacts = q("DELETE FROM {contacts} WHERE subject_id = ANY(%b)")
        # The rows beside the events come as one JSON text per table (see ``_json``); the
        # events, whose states are bytes, as binary arrays.
        self.insert_contacts = q(
            "INSERT INTO {contacts} (tenant, contact_key, subject_id, channel) "
            "SELECT r.tenant, r.contact_key, r.subject_id, r.channel FROM json_to_recordset("
            "%s::json) AS r(tenant text, contact_key text, subject_id uuid, channel text) "
            "ON CONFLICT DO NOTHING"
        )
        self.insert_outbox = q(
            "INSERT INTO {outbox} (tenant, channel, subject_id, event_id, kind, payload, version) "
            "SELECT r.tenant, r.channel, r.subject_id, r.event_id, r.kind, r.payload, r.version "
            "FROM json_to_recordset(%s::json) AS r(tenant text, channel text, subject_id uuid, "
            "event_id uuid, kind text, payload text, version bigint)"
        )
        self.insert_keys = q(
            "INSERT INTO {keys} (subject_id, data_key) "
            "SELECT r.subject_id, decode(r.data_key, 'hex') "
            "FROM json_to_recordset(%s::json) AS r(subject_id uuid, data_key text)"
        )
        self.insert_receipts = q(
            "INSERT INTO {receipts} (tenant, source_kind, source_id, subject_id, event_id, "
            "version, type) SELECT r.tenant, r.source_kind, r.source_id, r.subject_id, "
            "r.event_id, r.version, r.type FROM json_to_recordset(%s::json) AS r(tenant text, "
            "source_kind text, source_id text, subject_id uuid, event_id uuid, version bigint, "
            "type text)"
        )
        self.insert_events = q(
            "INSERT INTO {events} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING originator_id, originator_version, notification_id"
        )
        self.notify = q("NOTIFY {channel}")

    # ------------------------------------------------------------------ connections
    async def _run(
        self, role: str, work: Callable[[psycopg.AsyncConnection[DictRow]], Awaitable[T]]
    ) -> T:
        """``work`` on the connection of ``role`` (the writer's reader, its committer, its
        announcer), with psycopg's errors as the library's.

        A connection kept from before may have died with its server (a restart): if it
        fails, the work is tried once more on a new connection; a new one that fails is
        the database's answer.
        """
        with persistence_errors():
            conn, fresh = await self._connection(role)
            try:
                return await work(conn)
            except psycopg.OperationalError:
                await conn.close()
                if fresh:
                    raise
            except BaseException:
                if conn.broken or conn.info.transaction_status != 0:  # not idle: start afresh
                    await conn.close()
                raise
            conn, _ = await self._connection(role)
            try:
                return await work(conn)
            except BaseException:
                await conn.close()
                raise

    async def _connection(self, role: str) -> tuple[psycopg.AsyncConnection[DictRow], bool]:
        """The connection of ``role``, and whether it was opened just now."""
        conn = self._connections.get(role)
        if conn is not None and not (conn.closed or conn.broken):
            return conn, False
        conn = await psycopg.AsyncConnection.connect(
            **self.conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            row_factory=dict_row,
        )
        # Session settings once per connection, not a statement in every group.
        await conn.execute(OLTP_SESSION + f"; SET lock_timeout = '{LOCK_TIMEOUT}'")
        self._connections[role] = conn
        return conn, True

    async def close(self) -> None:
        for conn in self._connections.values():
            await conn.close()
        self._connections.clear()

    # ------------------------------------------------------------------ round trips
    async def read(self, request: GroupRead) -> GroupReads:
        return await self._run("read", lambda conn: self._read(conn, request))

    async def commit(self, stored: Sequence[StoredEvent], beside: RowsBeside) -> list[int]:
        return await self._run("commit", lambda conn: self._commit(conn, stored, beside))

    async def read_subjects(self, subject_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Every event of these subjects (tenant settings, on the request path) on a
        connection of its own: one statement, the same quick failure as the group read."""
        return await self._run("subjects", lambda conn: self._read_subjects(conn, subject_ids))

    async def _read_subjects(
        self, conn: psycopg.AsyncConnection[DictRow], subject_ids: Sequence[UUID]
    ) -> dict[UUID, list[StoredEvent]]:
        found: dict[UUID, list[StoredEvent]] = {sid: [] for sid in subject_ids}
        cursor = await conn.execute(
            self.read_events,
            (_json([{"id": sid, "known": 0} for sid in subject_ids]),),
            binary=True,
        )
        for row in await cursor.fetchall():
            found[row["originator_id"]].append(stored_event(row))
        return found

    async def announce(self) -> None:
        await self._run("announce", self._notify)

    async def _notify(self, conn: psycopg.AsyncConnection[DictRow]) -> None:
        await conn.execute(self.notify)

    async def _read(self, conn: psycopg.AsyncConnection[DictRow], request: GroupRead) -> GroupReads:
        wanted = _json(
            [
                {"tenant": tenant, "source_kind": kind, "source_id": source_id}
                for tenant, keys in request.receipts.items()
                for kind, source_id in keys
            ]
        )
        known = _json([{"id": sid, "known": v} for sid, v in request.subjects.items()])
        cursor = await conn.execute(self.read_group, (wanted, known, known), binary=True)
        found: dict[str, dict[tuple[str, str], Receipt]] = {t: {} for t in request.receipts}
        newer: dict[UUID, list[StoredEvent]] = {sid: [] for sid in request.subjects}
        data_keys: dict[UUID, bytes] = {}
        for row in await cursor.fetchall():
            part = row["part"]
            if part == 1:
                newer[row["subject"]].append(
                    StoredEvent(row["subject"], row["version"], row["text"], bytes(row["data"]))
                )
            elif part == 0:
                receipt = Receipt(
                    tenant=row["tenant"],
                    source_kind=row["source_kind"],
                    source_id=row["source_id"],
                    subject_id=row["subject"],
                    event_id=row["event_id"],
                    version=row["version"],
                    type=row["text"],
                    position=row["position"],
                )
                found[receipt.tenant][receipt.key] = receipt
            else:
                data_keys[row["subject"]] = bytes(row["data"])
        for stored in newer.values():  # in version order, whatever order the rows came in
            stored.sort(key=_version)
        return GroupReads(found, newer, data_keys)

    async def _commit(
        self,
        conn: psycopg.AsyncConnection[DictRow],
        stored: Sequence[StoredEvent],
        beside: RowsBeside,
    ) -> list[int]:
        inserted = conn.cursor()
        inserts = self._beside(beside)
        if stored:
            inserts.append(
                (
                    self.insert_events,
                    (
                        [e.originator_id for e in stored],
                        [e.originator_version for e in stored],
                        [e.topic for e in stored],
                        [e.state for e in stored],
                    ),
                )
            )
        # BEGIN and COMMIT as commands of the one pipeline: psycopg's ``transaction()``
        # in a pipeline waits for every answer before it sends COMMIT (a second round trip,
        # with the table lock held while Python reads the answers). Nothing is prepared
        # server-side here: psycopg would count a statement prepared in a pipeline that a
        # refusal aborted (its PREPARE skipped), and the next group would fail on it.
        try:
            async with conn.pipeline():
                await conn.execute(BEGIN, prepare=False)
                # The lock first: every writer takes the locks in one order, and outbox
                # ids, like positions, follow commit order.
                await conn.execute(self.lock, prepare=False)
                for statement, params in self._erasures(beside):
                    await conn.execute(statement, params, prepare=False)
                if inserts:
                    await inserted.execute(*_one_statement(inserts), prepare=False)
                await conn.execute(COMMIT, prepare=False)
        except psycopg.Error:
            # A refused command leaves the transaction aborted (its COMMIT was skipped):
            # end it here, so the connection stays usable for the next group.
            if conn.info.transaction_status != TransactionStatus.IDLE and not conn.broken:
                with suppress(psycopg.Error):
                    await conn.execute(ROLLBACK)
            raise
        if not stored:
            return []
        found = {
            (row["originator_id"], row["originator_version"]): row["notification_id"]
            for row in await inserted.fetchall()
        }
        return [found[(e.originator_id, e.originator_version)] for e in stored]

    def _erasures(self, beside: RowsBeside) -> list[tuple[Composed, tuple[Any, ...]]]:
        """The statements that erase what an erasure removes (before the inserts)."""
        if not beside.erase_keys:
            return []
        erased = list(beside.erase_keys)
        return [
            (self.erase_keys, (erased,)),
            # Messages not yet sent to an erased subject go too (a help reply holds the
            # address in clear).
            (self.erase_outbox, (erased,)),
            (self.erase_contacts, (erased,)),  # the contact index forgets
        ]

    def _beside(self, beside: RowsBeside) -> list[tuple[Composed, tuple[Any, ...]]]:
        """The inserts of the rows beside a group's events."""
        statements: list[tuple[Composed, tuple[Any, ...]]] = []
        if beside.outbox:
            statements.append((self.insert_outbox, (_json(beside.outbox),)))
        if beside.new_keys:
            keys = [{"subject_id": s, "data_key": k.hex()} for s, k in beside.new_keys.items()]
            statements.append((self.insert_keys, (_json(keys),)))
        if beside.receipts:
            statements.append((self.insert_receipts, (_json(beside.receipts),)))
        if beside.contact_links:
            statements.append((self.insert_contacts, (_json(beside.contact_links),)))
        return statements


def _one_statement(
    inserts: Sequence[tuple[Composed, tuple[Any, ...]]],
) -> tuple[Composed, tuple[Any, ...]]:
    """The inserts as one statement: all but the last as data-modifying ``WITH`` parts.

    One statement is one command in the pipeline instead of one per table (each command
    cost the writer's loop a turn and the socket a write). The parts see one snapshot and
    write different tables with no constraint between them, so the rows stored are those
    of the separate statements; the last insert's ``RETURNING`` (the events' positions)
    is the statement's.
    """
    *parts, (last, last_params) = inserts
    if not parts:
        return last, last_params
    ctes = SQL(", ").join(
        SQL("{} AS ({})").format(Identifier(f"beside_{i}"), statement)
        for i, (statement, _) in enumerate(parts)
    )
    params = tuple(value for _, values in parts for value in values) + last_params
    return SQL("WITH {} {}").format(ctes, last), params


def _json(rows: Sequence[object]) -> str:
    """Rows (dataclasses or dicts; UUIDs as strings) as one JSON text, for
    ``json_to_recordset``: serialised in C. psycopg dumped each column of each table as a
    binary array in Python (~20 µs an array, ~26 arrays a group): for a group of one
    message, 189 -> 64 µs of the client's CPU to send its parameters; for 50, 791 -> 295.

    A string JSON cannot carry (a lone surrogate) is the data's fault, like a NUL byte:
    the database's kind of refusal, so the writer commits the group's units one by one."""
    try:
        return orjson.dumps(rows).decode("utf-8")
    except orjson.JSONEncodeError as e:
        raise DataError(f"a value cannot be stored: {e}") from e


def _version(stored: StoredEvent) -> int:
    return stored.originator_version


def stored_event(row: DictRow) -> StoredEvent:
    """A row of the events table (its four stored columns) as the library's event."""
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )
