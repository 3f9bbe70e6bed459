"""``consent-ledger serve``: the HTTP API."""

from __future__ import annotations

import argparse

import uvicorn

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.runtime.storage_settings import StorageSettings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("serve", help="run the HTTP API")
    parser.add_argument("--host", help="overrides CONSENT_LEDGER_HOST (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="overrides CONSENT_LEDGER_PORT (default 8000)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = ServeSettings()
    if args.host:
        settings.host = args.host
    if args.port is not None:
        settings.port = args.port
    app = create_app(settings, StorageSettings())
    # uvicorn stops cleanly on SIGTERM and SIGINT: it stops accepting, lets in-flight
    # requests finish, then runs the lifespan shutdown that closes the ledger.
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, timeout_graceful_shutdown=30
    )
    uvicorn.Server(config).run()
    return 0
