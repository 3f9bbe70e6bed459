"""Checking a pooled connection as it is taken, with a round trip only when it may be dead.

The library's pools check each connection they hand out (``POSTGRES_PRE_PING``): an empty
query, so a connection that died with a restarted server is replaced instead of failing
the caller's work. That is one round trip more for every transaction: the consumer's poll,
every read of ``serve``. A server that ends a connection (a restart, a shutdown,
``pg_terminate_backend``, an idle timeout) sends its reason and closes the socket, so the
socket then has something to read: a connection is checked with the round trip only when
its socket is readable (or psycopg already knows it broken or closed); a connection with
nothing to read is handed out as it is. A server that vanished without a word (its host
gone) is found by the caller's first statement, as it was by the ping (which waited for
the network's timeout).

Each connection a check found dead is counted in
``consent_ledger_pool_connections_replaced_total`` and logged: the pool replaces it, and
checks the other idle ones at once (a restart ends them all).
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter
from psycopg_pool import ConnectionPool

log = logging.getLogger("ledger.persistence.pool")

POOL_CONNECTIONS_REPLACED = Counter(
    "consent_ledger_pool_connections_replaced_total",
    "Pooled database connections found dead as they were taken (a restarted server, a "
    "terminated session) and replaced",
)

_ping = ConnectionPool.check_connection


def check_when_readable(pool: ConnectionPool[Any]) -> Callable[[Any], None]:
    """The pool's ``check``: return if the connection is usable, else raise (the pool then
    replaces it). A dead one most likely died with the others idle beside it (a restart):
    they are checked and replaced at once too, or the caller waited through the pool's
    back-off between each dead connection it took (0, 1, 2 s…: past its 5-second timeout
    with four)."""

    def check(conn: Any) -> None:
        if not (conn.closed or conn.broken) and not _readable(conn):
            return
        try:
            _ping(conn)
        except Exception as error:
            lost = pool.get_stats().get("connections_lost", 0)
            pool.check()  # every idle connection, each replaced if dead
            others = pool.get_stats().get("connections_lost", 0) - lost
            POOL_CONNECTIONS_REPLACED.inc(1 + others)
            log.warning(
                "a pooled database connection was dead as it was taken; the pool replaces it",
                extra={"error": str(error), "others_replaced": others},
            )
            raise

    return check


def _readable(conn: Any) -> bool:
    """Whether the connection's socket has something to read (or is closed or in error)."""
    try:
        fd = conn.fileno()
    except Exception:  # no socket: let the ping say what is wrong
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
