"""``child_context``: how a command starts the processes that share its work.

Forked, a child starts at once with every module its parent imported (a spawned one
imports the application again: ~1.5 s of CPU). But a child forked while other threads run
may inherit a lock one of them held at that instant, and deadlock on it (Python 3.12
warns of such forks). So: fork when this process runs no other thread, else spawn.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.context import BaseContext


def child_context() -> BaseContext:
    """The ``fork`` context when no other thread runs here (and the platform has it),
    else ``spawn``."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
