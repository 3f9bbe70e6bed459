"""``consent-ledger projections rebuild NAME``: replay the ledger into a fresh read model."""

from __future__ import annotations

import argparse
import os
import sys
import time

from ledger.application.consent_ledger import ConsentLedger
from ledger.runtime.storage_settings import StorageSettings
from projections.rebuild import rebuild
from projections.rebuild_helpers import PartFailed, RebuildHelpers
from projections.views import PROJECTION_NAMES

BAR_WIDTH = 30


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("projections", help="manage the read models")
    actions = parser.add_subparsers(dest="projections_command", required=True)
    rebuild_parser = actions.add_parser(
        "rebuild", help="replay the ledger into a fresh copy of a read model and swap it in"
    )
    rebuild_parser.add_argument("name", help=f"one of: {', '.join(PROJECTION_NAMES)}")
    rebuild_parser.set_defaults(run=run_rebuild)


class ProgressBar:
    """A bar on stderr: redrawn in place on a terminal, one line per 10% otherwise."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tty = sys.stderr.isatty()
        self.shown = -1
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total == 0 else min(100, done * 100 // total)
        step = percent if self.tty else percent // 10 * 10
        if step == self.shown:
            return
        self.shown = step
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        line = f"{self.name} [{bar}] {percent:3d}% {done}/{total} events"
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def run_rebuild(args: argparse.Namespace) -> int:
    name = args.name
    if name not in PROJECTION_NAMES:
        print(
            f"consent-ledger projections rebuild: unknown projection {name!r}; "
            f"known: {', '.join(PROJECTION_NAMES)}",
            file=sys.stderr,
        )
        return 2
    storage = StorageSettings()
    # The processes that load parts of a large ledger on PostgreSQL start first, while
    # this process runs no other thread (``projections/rebuild_helpers.py``).
    count = (os.cpu_count() or 1) - 1 if storage.uses_postgres else 0
    with RebuildHelpers.start(count) as helpers:
        ledger = ConsentLedger(storage.eventsourcing_env())
        bar = ProgressBar(name)
        try:
            result = rebuild(name, ledger, progress=bar, helpers=helpers)
        except PartFailed as failed:
            failure: PartFailed | None = failed
        else:
            failure = None
        finally:
            bar.finish()
            ledger.close()
    if failure is not None:
        print(
            f"consent-ledger projections rebuild: {failure}; the live tables are unchanged: "
            "run it again",
            file=sys.stderr,
        )
        return 1
    seconds = time.monotonic() - bar.started
    print(
        f"rebuilt {result.name}: {result.events} events, {result.subjects} subjects, "
        f"through ledger position {result.position} in {seconds:.2f}s"
    )
    return 0
