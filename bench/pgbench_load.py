"""The database baselines, driven by ``pgbench`` (PostgreSQL's own compiled client).

Python threads cap below the database (the GIL, psycopg's per-statement Python), so the
raw and mutable baselines run as ``pgbench -n -f bench/sql/SCRIPT -c N -j 2 -T S -M
prepared``: N clients, each its own connection, each sending its next transaction as
soon as the last one committed. ``tps`` (without the connection set-up) is the rate;
pgbench's own CPU time (user + system) is measured from the kernel.

``COPY … FROM STDIN`` is the one baseline pgbench cannot send: it stays in ``bench.raw``
(psycopg, pre-encoded rows).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench import raw
from bench.infra import run_measured

SQL = Path(__file__).with_name("sql")
RAW_INSERT = SQL / "raw_insert.sql"
MUTABLE = SQL / "mutable.sql"
SELECT_ONE = SQL / "select_one.sql"


@dataclass(frozen=True)
class PgbenchRun:
    clients: int
    transactions: int
    failed: int
    tps: float  # without the initial connection time, as pgbench reports it
    latency_ms: float  # average per transaction
    seconds: float  # pgbench's wall time
    cpu_seconds: float  # pgbench's own

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found is None:
        raise RuntimeError("pgbench is not installed (Debian: postgresql-client)")
    return found


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"pgbench output without /{pattern}/: {text[-1500:]}")
    return float(found.group(1))


def parse(stdout: str, clients: int, seconds: float, cpu_seconds: float) -> PgbenchRun:
    failed = re.search(r"^number of failed transactions: (\d+)", stdout, re.MULTILINE)
    return PgbenchRun(
        clients=clients,
        transactions=int(_number(r"^number of transactions actually processed: (\d+)", stdout)),
        failed=int(failed.group(1)) if failed else 0,
        tps=_number(r"^tps = ([\d.]+) \(without initial connection time\)", stdout),
        latency_ms=_number(r"^latency average = ([\d.]+) ms", stdout),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
    )


def run(
    conninfo: str,
    script: Path,
    *,
    clients: int,
    seconds: float,
    variables: dict[str, str] | None = None,
) -> PgbenchRun:
    """``script`` on ``clients`` connections for ``seconds`` (whole seconds, >= 1)."""
    duration = max(1, round(seconds))
    command = [
        pgbench_binary(), "--no-vacuum", "--file", str(script),
        "--client", str(clients), "--jobs", str(min(2, clients)),
        "--time", str(duration), "--protocol", "prepared",
    ]  # fmt: skip
    for name, value in (variables or {}).items():
        command += ["--define", f"{name}={value}"]
    command.append(conninfo)
    done = run_measured(command, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench exited with {done.returncode}: {done.stderr[-1500:]}")
    return parse(done.stdout, clients, done.seconds, done.cpu_seconds)


def raw_inserts(conninfo: str, row: raw.Row, *, clients: int, seconds: float) -> PgbenchRun:
    """One ``INSERT`` per transaction of ``row`` (a stored event) with a fresh id."""
    return run(
        conninfo,
        RAW_INSERT,
        clients=clients,
        seconds=seconds,
        variables={"topic": row.topic, "state": "\\x" + row.state.hex()},
    )


class MutableCursor:
    """Where the mutable baseline's next run starts, so runs update contacts in turn."""

    def __init__(self, contacts: int) -> None:
        self.contacts = contacts
        self.base = 0

    def run(self, conninfo: str, *, clients: int, seconds: float) -> PgbenchRun:
        done = run(
            conninfo,
            MUTABLE,
            clients=clients,
            seconds=seconds,
            variables={
                "base": str(self.base),
                "clients": str(clients),
                "contacts": str(self.contacts),
                "i": "0",
            },
        )
        # Runs never overlap in time, so the next one may touch contacts this one did;
        # moving on spreads the updates over every contact, as people texting would.
        self.base = (self.base + done.transactions) % self.contacts
        return done


def select_one(conninfo: str, *, clients: int, seconds: float) -> PgbenchRun:
    """pgbench's ceiling here: statements that do no work, on ``clients`` connections."""
    return run(conninfo, SELECT_ONE, clients=clients, seconds=seconds)
