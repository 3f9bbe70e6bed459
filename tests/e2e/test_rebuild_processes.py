"""``consent-ledger projections rebuild`` of a large ledger on PostgreSQL, in one process per
core: the helpers are forked before the rebuild opens its ledger (no other thread runs
then), the result is the whole read model, and a helper that dies fails the rebuild with
the live tables untouched; running it again completes it."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil

from ledger.application.consent_ledger import ConsentLedger
from projections.rebuild import EVENTS_PER_EXTRA_PROCESS
from projections.views import open_projection
from tests.conftest import pg_settings
from tests.support.processes import CLI, clean_env

# Enough events for a second process (one per EVENTS_PER_EXTRA_PROCESS), on two cores or
# more (one helper a core beside the command's own process).
SUBJECTS = 2 * EVENTS_PER_EXTRA_PROCESS


def import_subjects(url: str, tmp_path: Path, first: int, count: int) -> None:
    path = tmp_path / f"rows-{first}.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["channel", "address", "type", "occurred_at", "purposes", "method"])
        for n in range(first, first + count):
            writer.writerow(
                ["whatsapp", f"+1628{n:07d}", "opted_in", "2025-06-01T12:00:00Z", "marketing",
                 "paper_form"]
            )  # fmt: skip
    done = subprocess.run(
        [CLI, "import", path.name, "--tenant", "acme"],
        env=clean_env(DATABASE_URL=url), cwd=tmp_path, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["accepted"] == count


def subjects_in_read_model(url: str) -> int:
    ledger = ConsentLedger(pg_settings(url).eventsourcing_env())
    try:
        projection = open_projection("consent_status", ledger)
        count = f"SELECT count(*) AS n FROM {projection.subjects_table}"  # noqa: S608
        with projection.db.read() as cursor:
            row = cursor.execute(count).fetchone()
            return int(row["n"])
    finally:
        ledger.close()


def rebuild(url: str, tmp_path: Path, *, kill_helpers: bool = False) -> tuple[int, str, list[str]]:
    """Run the rebuild; the exit code, stderr and each helper's command line."""
    process = subprocess.Popen(
        [CLI, "projections", "rebuild", "consent_status"],
        env=clean_env(DATABASE_URL=url), cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: dict[int, list[str]] = {}
    parent = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            children = parent.children()
            for child in children:
                seen.setdefault(child.pid, child.cmdline())
                if kill_helpers:
                    child.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass
        time.sleep(0.005)
    _, err = process.communicate(timeout=300)
    return process.returncode, err, list(seen.values())


def test_a_large_rebuild_forks_its_helpers_and_one_that_dies_leaves_the_live_tables_as_they_were(
    tmp_path: Path, pg_url: str
) -> None:
    # Given a ledger large enough for a second process
    import_subjects(pg_url, tmp_path, 0, SUBJECTS)

    # When it is rebuilt
    code, err, helpers = rebuild(pg_url, tmp_path)
    # Then it is whole, and its helper was forked while nothing else ran (the same
    # program, not a spawned interpreter importing the application again)
    assert code == 0, err[-2000:]
    assert subjects_in_read_model(pg_url) == SUBJECTS
    started = [json.loads(x) for x in err.splitlines() if "rebuild helpers started" in x]
    cores = os.cpu_count() or 1
    assert [(s["helpers"], s["start_method"]) for s in started] == [(cores - 1, "fork")]
    assert helpers
    assert all("spawn_main" not in " ".join(cmd) for cmd in helpers)

    # When another subject is recorded and a rebuild's helper dies
    import_subjects(pg_url, tmp_path, SUBJECTS, 1)
    code, err, helpers = rebuild(pg_url, tmp_path, kill_helpers=True)
    # Then the rebuild fails, says so, and the live read model is the one it had
    assert helpers
    assert code == 1
    assert "part 1 of 2 of consent_status failed" in err
    assert "the live tables are unchanged" in err
    assert subjects_in_read_model(pg_url) == SUBJECTS

    # When it is run again, it completes
    code, err, _ = rebuild(pg_url, tmp_path)
    assert code == 0, err[-2000:]
    assert subjects_in_read_model(pg_url) == SUBJECTS + 1
