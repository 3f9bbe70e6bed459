"""``consent-ledger import --workers N`` on PostgreSQL: the same ledger and the same report
as one process, each subject's rows recorded in file order; a process that dies stops the
import, and running it again records exactly what is missing."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from ledger.application.consent_ledger import ConsentLedger
from tests.conftest import pg_settings
from tests.support.postgres import fresh_database
from tests.support.processes import CLI, clean_env, run_cli

COLUMNS = ["channel", "address", "type", "occurred_at", "purposes", "method", "source_id"]
SUBJECTS = 1500  # each of three processes gets more than one batch of 1,000 rows


def number(n: int) -> str:
    return f"+1415555{n:04d}"


def spelled(n: int, how: int) -> str:
    """One number as gateways and spreadsheets write it."""
    digits = number(n)
    return (digits, f"+1 415-555-{n:04d}", f"whatsapp:{digits}", f"001415555{n:04d}")[how % 4]


def rows() -> list[list[str]]:
    """Per subject, in file order: an opt-in, an opt-out an hour later, and for every third
    subject an opt-in older than that opt-out (rejected: an import never overrides a newer
    opt-out); subjects interleaved, numbers spelled four ways; some rows bad."""
    out: list[list[str]] = []
    for step, (kind, hour) in enumerate((("opted_in", 10), ("opted_out", 11), ("opted_in", 9))):
        for n in range(SUBJECTS):
            if step == 2 and n % 3:
                continue
            when = f"2025-06-01T{hour:02d}:00:00Z"
            out.append(
                ["whatsapp", spelled(n, n + step), kind, when, "marketing", "paper_form", ""]
            )
            if n % 50 == 0 and step == 0:
                out.append(["whatsapp", "+1415", kind, when, "marketing", "paper_form", ""])
                out.append(["whatsapp", number(n), "maybe", when, "marketing", "paper_form", ""])
    return out


def write(path: Path, body: list[list[str]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(body)


def imported(url: str, tmp_path: Path, workers: int | None) -> dict[str, Any]:
    """The printed report, with ``rejects``: every rejected row as ``--rejects`` wrote it
    (the printed report lists the first 100)."""
    env = clean_env(DATABASE_URL=url)
    spread = ["--workers", str(workers)] if workers is not None else []
    done = run_cli(
        "import", "rows.csv", "--tenant", "acme", "--rejects", "rejects.csv", *spread,
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr  # rows were rejected
    report: dict[str, Any] = json.loads(done.stdout)
    report["rejects"] = (tmp_path / "rejects.csv").read_text().splitlines()
    return report


def histories(url: str) -> dict[str, list[tuple[str, str, int]]]:
    ledger = ConsentLedger(pg_settings(url).eventsourcing_env())
    try:
        out = {}
        for n in range(SUBJECTS):
            history = ledger.history("acme", "whatsapp", number(n))
            out[number(n)] = [
                (e.document["type"], e.document["occurred_at"], e.document["version"])
                for e in history.entries
            ]
        return out
    finally:
        ledger.close()


@pytest.fixture
def second_url(pg_server: str) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        yield url


def test_three_processes_record_what_one_does_in_each_subjects_order(
    tmp_path: Path, pg_url: str, second_url: str
) -> None:
    write(tmp_path / "rows.csv", rows())
    alone = imported(pg_url, tmp_path, workers=1)
    spread = imported(second_url, tmp_path, workers=3)

    assert spread == alone
    assert spread["accepted"] == SUBJECTS * 2
    codes = {r["code"] for r in spread["rejected"]}
    assert codes == {"invalid_address", "invalid_type", "older_than_opt_out"}
    assert spread["rejected_count"] == SUBJECTS // 3 + 2 * (SUBJECTS // 50)
    assert len(spread["rejects"]) == spread["rejected_count"] + 1  # and the header
    lines = [int(line.split(",", 1)[0]) for line in spread["rejects"][1:]]
    assert lines == sorted(lines)  # by row, as one process reports them

    # The same events, in each subject's file order: in by opt-in, out an hour later.
    by_one, by_three = histories(pg_url), histories(second_url)
    assert by_three == by_one
    assert all(
        [kind for kind, _, _ in events] == ["opted_in", "opted_out"] for events in by_three.values()
    ), next(iter(by_three.values()))

    # The same file again, as many processes as cores by default: nothing new, every
    # rejection again.
    again = imported(second_url, tmp_path, workers=None)
    assert (again["accepted"], again["duplicates"]) == (0, SUBJECTS * 2)
    assert again["rejects"] == spread["rejects"]


def test_a_process_killed_mid_import_stops_it_and_the_rerun_records_exactly_the_rest(
    tmp_path: Path, pg_url: str
) -> None:
    total = 30_000
    body = [
        ["whatsapp", f"+1628{n:07d}", "opted_in", "2025-06-01T12:00:00Z", "marketing",
         "paper_form", ""]
        for n in range(total)
    ]  # fmt: skip
    write(tmp_path / "rows.csv", body)
    env = clean_env(DATABASE_URL=pg_url)
    assert run_cli("schema", "create", env=env, cwd=tmp_path).returncode == 0
    parent = psutil.Popen(
        [CLI, "import", "rows.csv", "--tenant", "acme", "--workers", "2"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def stored() -> int:
        with psycopg.connect(pg_url) as conn:
            row = conn.execute("SELECT count(*) FROM consentledger_events").fetchone()
            return int(row[0]) if row else 0

    deadline = time.monotonic() + 60
    while stored() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    children = parent.children()
    assert len(children) == 2, "an import with --workers 2 runs two recording processes"
    children[0].send_signal(signal.SIGKILL)
    out, err = parent.communicate(timeout=60)

    assert parent.returncode == 1, err
    assert "stopped without its report" in err
    assert "run again records only what is missing" in err
    assert not out  # no report: the import did not finish
    part_stored = stored()
    assert 0 < part_stored < total

    done = run_cli(
        "import", "rows.csv", "--tenant", "acme", "--workers", "2", env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["duplicates"] == part_stored
    assert report["accepted"] == total - part_stored
    assert stored() == total  # every row once: nothing lost, nothing doubled


def test_workers_on_the_sqlite_default_are_refused_before_anything_is_read(
    tmp_path: Path,
) -> None:
    write(tmp_path / "rows.csv", rows())
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "l.db"))
    done = run_cli(
        "import", "rows.csv", "--tenant", "acme", "--workers", "2", env=env, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "--workers above 1 needs PostgreSQL" in done.stderr
    assert not (tmp_path / "l.db").exists()
