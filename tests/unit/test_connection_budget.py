"""Test processes share one server's connections: a process waits until its file's share
fits beside the others', and the share of a process that died is given back."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from tests.support.connection_budget import ConnectionBudget


def hold_and_die(directory: str, share: int) -> None:
    ConnectionBudget(Path(directory), 100, owner="gw9").hold(share)  # exits holding it


def test_a_share_waits_until_it_fits_and_alone_any_share_fits(tmp_path: Path) -> None:
    first = ConnectionBudget(tmp_path, 100, owner="gw0")
    second = ConnectionBudget(tmp_path, 100, owner="gw1")
    first.hold(60)
    second.hold(40)  # fits exactly
    assert first.shares() == {"gw0": 60, "gw1": 40}
    second.release()

    context = multiprocessing.get_context("spawn")
    other = context.Process(target=hold_and_die, args=(str(tmp_path), 30))
    other.start()
    other.join(timeout=60)
    assert other.exitcode == 0
    assert first.shares() == {"gw0": 60}  # the dead process's share was given back

    first.hold(120)  # more than the whole server: alone, it runs (holding all of it)
    assert first.held == 100
    first.hold(10)  # a process moving to a lighter file holds less
    second.hold(90)
    assert first.shares() == {"gw0": 10, "gw1": 90}


def test_a_waiting_process_holds_nothing_and_goes_on_once_the_other_moves_on(
    tmp_path: Path,
) -> None:
    first = ConnectionBudget(tmp_path, 100, owner="gw0")
    second = ConnectionBudget(tmp_path, 100, owner="gw1")
    first.hold(70)
    second.hold(20)
    context = multiprocessing.get_context("spawn")
    waiting = context.Process(target=hold_share, args=(str(tmp_path), 50, 0.5))
    waiting.start()
    time.sleep(1.0)
    assert waiting.is_alive()  # 70 + 20 + 50 > 100: it waits ...
    assert "gw2" not in first.shares()  # ... holding nothing meanwhile
    first.hold(30)  # the first process moves on to a lighter file: 30 + 20 + 50 fits
    waiting.join(timeout=30)
    assert waiting.exitcode == 0
    assert first.shares() == {"gw0": 30, "gw1": 20}


def hold_share(directory: str, share: int, seconds: float) -> None:
    budget = ConnectionBudget(Path(directory), 100, owner="gw2")
    budget.hold(share)
    time.sleep(seconds)
    budget.release()
