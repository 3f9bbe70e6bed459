"""``consent-ledger serve``: the HTTP API, on one process or several.

Each worker process has its own writer (``ledger/application/writer/``); on PostgreSQL
they share the events table's lock, so positions still follow commit order. The default
is one worker per core on PostgreSQL, and one on the embedded SQLite default (SQLite has
one writer, and the in-process projections one runner).
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from api.http_protocol import BoundedHttpProtocol
from api.serve_settings import ServeSettings
from ledger.runtime.storage_settings import StorageSettings

# How long uvicorn waits for in-flight requests after SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 30
# How long a worker may take to answer the supervisor's health ping before it is killed
# and replaced. A worker starting beside others on a busy machine took longer than
# uvicorn's 5 s default just to import its modules, and was killed mid-start.
WORKER_HEALTHCHECK_SECONDS = 30


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("serve", help="run the HTTP API")
    parser.add_argument("--host", help="overrides CONSENT_LEDGER_HOST (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="overrides CONSENT_LEDGER_PORT (default 8000)")
    parser.add_argument(
        "--workers",
        type=int,
        help="overrides CONSENT_LEDGER_WORKERS (default: the cores on PostgreSQL, 1 on SQLite)",
    )
    parser.set_defaults(run=run)


def workers_for(settings: ServeSettings, storage: StorageSettings) -> int:
    if settings.workers is not None:
        return settings.workers
    return (os.cpu_count() or 1) if storage.uses_postgres else 1


def run(args: argparse.Namespace) -> int:
    settings = ServeSettings()
    if args.host:
        settings.host = args.host
    if args.port is not None:
        settings.port = args.port
    if args.workers is not None:
        settings.workers = args.workers
    storage = StorageSettings()
    workers = workers_for(settings, storage)
    if workers < 1:
        print("consent-ledger serve: --workers must be at least 1", file=sys.stderr)
        return 2
    if workers > 1 and not storage.uses_postgres:
        print(
            "consent-ledger serve: the embedded SQLite default has one writer and runs the "
            "projections in-process: run one worker (set DATABASE_URL for several)",
            file=sys.stderr,
        )
        return 2
    # The workers build their settings from the environment: pass the flags on.
    os.environ["CONSENT_LEDGER_HOST"] = settings.host
    os.environ["CONSENT_LEDGER_PORT"] = str(settings.port)
    # uvicorn stops cleanly on SIGTERM and SIGINT: it stops accepting, lets in-flight
    # requests finish, then runs the lifespan shutdown that drains the writer and closes
    # the ledger; with several workers, the supervisor does so for each.
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        http=BoundedHttpProtocol,  # bounds on heads, slow clients, connections
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
    return 0
