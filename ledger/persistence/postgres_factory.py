"""The library's PostgreSQL factory, with every connection planning each query afresh.

psycopg prepares a statement on the server after its fifth execution, and PostgreSQL
may then keep one generic plan for it. A plan chosen while a table was small stays in
use as the table grows, until the table is analyzed again; where autovacuum is off (as
on the development machine) that is never. Seen with ``auto_explain`` while recording
the benchmark ledger (2 processes, batches of 2,000): the group commit's receipts lookup
had been planned when the table held about 100 rows, as an index scan on ``tenant``
alone with the 2,000 source ids as a filter, so every later lookup read every receipt of
the tenant. A batch took 1.2 s at the start and 13.6 s at 280,000 rows (each process
fell from ~1,700 to ~150 events/s); with this setting, 1.2-1.9 s at the same size.

``plan_cache_mode = force_custom_plan`` keeps the saved parsing of prepared statements
and plans every execution with the table's current size and the actual parameters, at
the cost of planning each time (tens of microseconds for these statements). Run
autovacuum in production all the same: without statistics the planner still guesses.

Its pool checks a connection as it is taken only when it may be dead (``pool_check.py``).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresFactory

from ledger.persistence.pool_check import check_when_readable

# The ledger's queries are index probes that take well under a millisecond. When the
# planner misjudges a table (stale statistics: it estimated 2,749 versions per subject on
# the benchmark ledger), their cost estimate crosses PostgreSQL's thresholds for JIT
# compilation and parallel workers, which then cost 40 ms a query (seen with
# log_min_duration_statement: a group's read took 9-40 ms instead of 1). Neither pays
# off for a query that reads a few rows.
OLTP_SESSION = (
    "SET plan_cache_mode = force_custom_plan; SET jit = off; "
    "SET max_parallel_workers_per_gather = 0"
)


class LedgerPostgresFactory(PostgresFactory):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        configure_as_library = pool._configure  # the pool is not open yet

        def configure(conn: Any) -> None:
            if configure_as_library is not None:
                configure_as_library(conn)
            conn.execute(OLTP_SESSION)  # autocommit: session settings

        pool._configure = configure
        if pool._check is not None:  # POSTGRES_PRE_PING: a round trip only when it may help
            pool._check = check_when_readable(pool)
