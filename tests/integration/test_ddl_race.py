"""Processes starting together on a fresh database (``serve``'s workers, the README's
production block) create the same side tables at the same moment: none of them fails."""

from __future__ import annotations

import threading

from eventsourcing.postgres import PostgresDatastore
from psycopg.conninfo import conninfo_to_dict
from psycopg.sql import SQL, Composed, Identifier

from ledger.persistence.postgres_ddl import create_table_once


def datastore(url: str) -> PostgresDatastore:
    parts = conninfo_to_dict(url)
    return PostgresDatastore(
        dbname=str(parts["dbname"]),
        host=str(parts.get("host", "127.0.0.1")),
        port=str(parts.get("port", "5432")),
        user=str(parts.get("user", "postgres")),
        password=str(parts.get("password", "")),
    )


def test_racing_creations_of_one_table_all_succeed(pg_url: str) -> None:
    stores = [datastore(pg_url) for _ in range(4)]
    errors: list[BaseException] = []
    try:
        for attempt in range(15):
            statement = SQL("CREATE TABLE IF NOT EXISTS {t} (id bigint PRIMARY KEY)").format(
                t=Identifier("public", f"raced_{attempt}")
            )
            barrier = threading.Barrier(len(stores))

            def create(
                store: PostgresDatastore,
                statement: Composed = statement,
                barrier: threading.Barrier = barrier,
            ) -> None:
                barrier.wait()
                try:
                    create_table_once(store, statement)
                except BaseException as error:
                    errors.append(error)

            threads = [threading.Thread(target=create, args=(s,)) for s in stores]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        assert errors == []
    finally:
        for store in stores:
            store.close()
