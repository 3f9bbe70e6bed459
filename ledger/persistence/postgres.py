"""PostgreSQL recorder extension: append-only events, receipts, data keys, positions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from ledger.domain.outbound.outbox import OutboxMessage
from ledger.domain.receipts import Receipt
from ledger.persistence.postgres_ddl import (
    KEEP_DELETE,
    REFUSE_CHANGE_FUNCTION,
    SerialisedDDL,
    add_column_once,
    create_trigger_once,
    refuse_change_function,
    refuse_changes,
)
from ledger.persistence.postgres_groups import PostgresGroupIO, stored_event
from ledger.persistence.store import (
    GroupRead,
    GroupReads,
    LedgerStore,
    PositionedEvent,
    RowsBeside,
    rows_beside,
)


def _json_ids(ids: Sequence[UUID]) -> str:
    """Ids as one JSON text: a single cheap parameter, unlike a Python-dumped uuid[] array."""
    return json.dumps([str(i) for i in ids])


class LedgerPostgresRecorder(SerialisedDDL, PostgresApplicationRecorder, LedgerStore):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.receipts_table = f"{events_table_name}_receipts"
        self.keys_table = f"{events_table_name}_subject_keys"
        self.outbox_table = f"{events_table_name}_outbox"
        self.contacts_table = f"{events_table_name}_contacts"
        self.sql_create_statements.extend(self._extension_statements())
        pool_kwargs = datastore.pool.kwargs
        if not isinstance(pool_kwargs, dict):  # pragma: no cover - the library passes a dict
            raise TypeError("the library's pool has no connection settings")
        conninfo = {
            k: v
            for k, v in pool_kwargs.items()
            if k in ("dbname", "host", "port", "user", "password")
        }
        self.groups = PostgresGroupIO(
            conninfo,
            schema=datastore.schema,
            events=events_table_name,
            receipts=self.receipts_table,
            keys=self.keys_table,
            outbox=self.outbox_table,
            channel=self.channel_name,
            contacts=self.contacts_table,
        )

    def _q(self, template: str, **names: str) -> Composed:
        identifiers = {k: Identifier(v) for k, v in names.items()}
        return SQL(template).format(schema=Identifier(self.datastore.schema), **identifiers)

    def _extension_statements(self) -> list[Composed]:
        schema = self.datastore.schema
        names = {
            "events": self.events_table_name,
            "receipts": self.receipts_table,
            "keys": self.keys_table,
            "outbox": self.outbox_table,
            "contacts": self.contacts_table,
            "refuse": REFUSE_CHANGE_FUNCTION,
            "no_change": f"{self.events_table_name}_append_only",
            "no_truncate": f"{self.events_table_name}_no_truncate",
            "receipts_no_change": f"{self.receipts_table}_append_only",
        }
        return [
            self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.{receipts} ("
                "tenant text NOT NULL, source_kind text NOT NULL, source_id text NOT NULL, "
                "subject_id uuid NOT NULL, event_id uuid NOT NULL, version bigint NOT NULL, "
                "type text NOT NULL, PRIMARY KEY (tenant, source_kind, source_id))",
                **names,
            ),
            self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.{keys} ("
                "subject_id uuid PRIMARY KEY, data_key bytea NOT NULL, "
                "created_at timestamptz NOT NULL DEFAULT now())",
                **names,
            ),
            self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.{outbox} ("
                "id bigserial PRIMARY KEY, tenant text NOT NULL, channel text NOT NULL, "
                "subject_id uuid NOT NULL, event_id uuid NOT NULL, kind text NOT NULL, "
                "payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), "
                "version bigint)",
                **names,
            ),
            # Outboxes made before rows carried their event's version get the column;
            # their rows keep NULL (a sender finds those events as it did before).
            add_column_once(schema, self.outbox_table, "version", "bigint"),
            # The keyed index of contacts (ledger/domain/contacts.py); erasure deletes rows.
            self._q(
                "CREATE TABLE IF NOT EXISTS {schema}.{contacts} ("
                "tenant text NOT NULL, contact_key text NOT NULL, subject_id uuid NOT NULL, "
                "channel text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (tenant, contact_key, subject_id))",
                **names,
            ),
            refuse_change_function(schema, REFUSE_CHANGE_FUNCTION),
            create_trigger_once(
                schema,
                self.events_table_name,
                names["no_change"],
                "BEFORE UPDATE OR DELETE",
                REFUSE_CHANGE_FUNCTION,
                per_row=True,
            ),
            create_trigger_once(
                schema,
                self.events_table_name,
                names["no_truncate"],
                "BEFORE TRUNCATE",
                REFUSE_CHANGE_FUNCTION,
            ),
            create_trigger_once(
                schema,
                self.receipts_table,
                names["receipts_no_change"],
                "BEFORE UPDATE OR DELETE OR TRUNCATE",
                REFUSE_CHANGE_FUNCTION,
            ),
            # Erasure deletes a subject's data key and its unsent outbox rows (the
            # crypto-shredding); nothing ever rewrites one, or empties either table.
            *refuse_changes(schema, self.keys_table, REFUSE_CHANGE_FUNCTION, KEEP_DELETE),
            *refuse_changes(schema, self.outbox_table, REFUSE_CHANGE_FUNCTION, KEEP_DELETE),
            # Erasure unlinks the subject from its contact; a link never changes.
            *refuse_changes(schema, self.contacts_table, REFUSE_CHANGE_FUNCTION, KEEP_DELETE),
        ]

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        # Lock the events table before touching any other table, so every writer (and the
        # ids of the outbox, which follow commit order like notification ids) takes the
        # locks in one order.
        self._lock_table(curs)
        beside = rows_beside(kwargs)
        new_keys, receipts = beside.new_keys, beside.receipts
        erase_keys, outbox = beside.erase_keys, beside.outbox
        if erase_keys:
            curs.execute(
                self._q(
                    "DELETE FROM {schema}.{keys} WHERE subject_id = ANY(%s)", keys=self.keys_table
                ),
                (list(erase_keys),),
            )
            curs.execute(  # the contact index forgets erased subjects
                self._q(
                    "DELETE FROM {schema}.{contacts} WHERE subject_id = ANY(%s)",
                    contacts=self.contacts_table,
                ),
                (list(erase_keys),),
            )
            # Messages not yet sent to an erased subject go too (a help reply holds the
            # address in clear).
            curs.execute(
                self._q(
                    "DELETE FROM {schema}.{outbox} WHERE subject_id = ANY(%s)",
                    outbox=self.outbox_table,
                ),
                (list(erase_keys),),
            )
        if beside.contact_links:
            curs.executemany(
                self._q(
                    "INSERT INTO {schema}.{contacts} (tenant, contact_key, subject_id, channel) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    contacts=self.contacts_table,
                ),
                [(c.tenant, c.contact_key, c.subject_id, c.channel) for c in beside.contact_links],
            )
        if outbox:
            curs.executemany(
                self._q(
                    "INSERT INTO {schema}.{outbox} (tenant, channel, subject_id, event_id, kind, "
                    "payload, version) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    outbox=self.outbox_table,
                ),
                [
                    (m.tenant, m.channel, m.subject_id, m.event_id, m.kind, m.payload, m.version)
                    for m in outbox
                ],
            )
        # One statement per table whatever the batch size, each row set sent as one JSON
        # text (serialised in C, parsed by PostgreSQL): much cheaper than array parameters.
        if new_keys:
            curs.execute(
                self._q(
                    "INSERT INTO {schema}.{keys} (subject_id, data_key) "
                    "SELECT k.subject_id, decode(k.data_key, 'hex') "
                    "FROM json_to_recordset(%s::json) AS k(subject_id uuid, data_key text)",
                    keys=self.keys_table,
                ),
                (
                    json.dumps(
                        [{"subject_id": str(s), "data_key": k.hex()} for s, k in new_keys.items()]
                    ),
                ),
            )
        if receipts:
            curs.execute(
                self._q(
                    "INSERT INTO {schema}.{receipts} (tenant, source_kind, source_id, "
                    "subject_id, event_id, version, type) SELECT * "
                    "FROM json_to_recordset(%s::json) "
                    "AS r(tenant text, source_kind text, source_id text, subject_id uuid, "
                    "event_id uuid, version bigint, type text)",
                    receipts=self.receipts_table,
                ),
                (
                    json.dumps(
                        [
                            {
                                "tenant": r.tenant,
                                "source_kind": r.source_kind,
                                "source_id": r.source_id,
                                "subject_id": str(r.subject_id),
                                "event_id": str(r.event_id),
                                "version": r.version,
                                "type": r.type,
                            }
                            for r in receipts
                        ]
                    ),
                ),
            )

    def receipts(
        self, tenant: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Receipt]:
        if not keys:
            return {}
        statement = self._q(
            "SELECT * FROM {schema}.{receipts} WHERE tenant = %s "
            "AND source_kind = ANY(ARRAY(SELECT json_array_elements_text(%s::json))) "
            "AND source_id = ANY(ARRAY(SELECT json_array_elements_text(%s::json)))",
            receipts=self.receipts_table,
        )
        kinds = json.dumps(sorted({kind for kind, _ in keys}))
        ids = json.dumps([source_id for _, source_id in keys])
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (tenant, kinds, ids))
            found = [Receipt(**row) for row in curs.fetchall()]
        wanted = set(keys)  # the two lists also match pairs that were not asked for
        return {r.key: r for r in found if r.key in wanted}

    def data_keys(self, subject_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        if not subject_ids:
            return {}
        statement = self._q(
            "SELECT subject_id, data_key FROM {schema}.{keys} WHERE subject_id = "
            "ANY(ARRAY(SELECT value::uuid FROM json_array_elements_text(%s::json)))",
            keys=self.keys_table,
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (_json_ids(subject_ids),))
            return {row["subject_id"]: bytes(row["data_key"]) for row in curs.fetchall()}

    def select_subjects(self, subject_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        result: dict[UUID, list[StoredEvent]] = {sid: [] for sid in subject_ids}
        if not subject_ids:
            return result
        statement = self._q(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{events} "
            "WHERE originator_id = "
            "ANY(ARRAY(SELECT value::uuid FROM json_array_elements_text(%s::json))) "
            "ORDER BY originator_id, originator_version",
            events=self.events_table_name,
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (_json_ids(subject_ids),), binary=True)
            for row in curs.fetchall():
                result[row["originator_id"]].append(stored_event(row))
        return result

    def select_positioned(
        self, subject_id: UUID, *, lte_position: int | None = None
    ) -> list[PositionedEvent]:
        statement = self._q(
            "SELECT * FROM {schema}.{events} WHERE originator_id = %s "
            "AND (%s::bigint IS NULL OR notification_id <= %s) ORDER BY originator_version",
            events=self.events_table_name,
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (subject_id, lte_position, lte_position), binary=True)
            return [
                PositionedEvent(stored_event(row), row["notification_id"])
                for row in curs.fetchall()
            ]

    def select_outbox(
        self, *, after: int, limit: int, tenant: str | None = None
    ) -> list[OutboxMessage]:
        statement = self._q(
            "SELECT id, tenant, channel, subject_id, event_id, kind, payload, version "
            "FROM {schema}.{outbox} "
            "WHERE id > %s AND (%s::text IS NULL OR tenant = %s) ORDER BY id LIMIT %s",
            outbox=self.outbox_table,
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (after, tenant, tenant, limit))
            return [OutboxMessage(**row) for row in curs.fetchall()]

    async def read_group_async(self, request: GroupRead) -> GroupReads:
        return await self.groups.read(request)

    async def select_subjects_async(
        self, subject_ids: Sequence[UUID]
    ) -> dict[UUID, list[StoredEvent]]:
        return await self.groups.read_subjects(subject_ids)

    async def commit_group_async(
        self, events: Sequence[StoredEvent], beside: RowsBeside
    ) -> list[int]:
        return await self.groups.commit(events, beside)

    async def announce_async(self) -> None:
        await self.groups.announce()

    async def close_async(self) -> None:
        await self.groups.close()

    def select_events_at(
        self, keys: Sequence[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], StoredEvent]:
        return {
            (row["originator_id"], row["originator_version"]): stored_event(row)
            for row in self._events_at(keys, "e.originator_version, e.topic, e.state")
        }

    def positions(self, keys: Sequence[tuple[UUID, int]]) -> dict[tuple[UUID, int], int]:
        return {
            (row["originator_id"], row["originator_version"]): row["notification_id"]
            for row in self._events_at(keys, "e.originator_version, e.notification_id")
        }

    def _events_at(self, keys: Sequence[tuple[UUID, int]], columns: str) -> list[DictRow]:
        """``originator_id`` and ``columns`` of the events at these (subject id, version)
        keys."""
        if not keys:
            return []
        # A primary-key probe per key, whatever the planner believes about the table
        # (``OFFSET 0``: not flattened into a join that hashes the table; see
        # ``postgres_groups.py``).
        statement = self._q(
            "SELECT e.originator_id, " + columns + " "
            "FROM unnest(%s::uuid[], %s::bigint[]) AS k(id, version) "
            "CROSS JOIN LATERAL (SELECT * FROM {schema}.{events} x "
            "WHERE x.originator_id = k.id AND x.originator_version = k.version OFFSET 0) e",
            events=self.events_table_name,
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, ([k for k, _ in keys], [v for _, v in keys]), binary=True)
            return curs.fetchall()
