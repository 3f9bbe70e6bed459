"""``create_app``: the FastAPI application, its lifespan and its routers."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.cli.json_logs import configure_logging
from api.console.install import install_console
from api.console.settings import ConsoleSettings
from api.errors import install_error_handlers
from api.gateways.services import GatewayServices
from api.openapi_errors import declare_error_answers
from api.openapi_rules import document_path_rules
from api.raw_body import add_raw_body_schemas
from api.readiness import Readiness
from api.request_log import RequestLog
from api.routers import (
    attestation,
    campaign_receipts,
    campaigns,
    checkpoints,
    consent_as_of,
    consent_records,
    contacts,
    events,
    health,
    held_opt_outs,
    imports,
    lifecycle_settings,
    messages,
    ops,
    optin_deliveries,
    optin_requests,
    outbound,
    personal_data,
    reconciliations,
    reports,
    sender_scope,
    subjects,
    subscriptions,
    tenants,
    tlog,
    tlog_proofs,
    webhooks_gupshup,
    webhooks_twilio,
    webhooks_whatsapp,
)
from api.serve_settings import ServeSettings
from api.services import Services
from ledger.crypto.secret_box import SecretsSettings
from ledger.runtime.collector import settle_after_start
from ledger.runtime.storage_settings import StorageSettings

log = logging.getLogger("api.requests")

SWITCH_INTERVAL_SECONDS = 0.0005


def app_from_environment() -> FastAPI:
    """The app of one ``serve`` worker process, configured from the environment."""
    configure_logging()
    return create_app(ServeSettings(), StorageSettings())


def create_app(
    settings: ServeSettings, storage: StorageSettings, console: ConsoleSettings | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.start(settings, storage)
        app.state.services = services
        # The ledger's writer runs on this loop, with the requests (ledger/application/writer/).
        services.ledger.writer.attach(asyncio.get_running_loop())
        # Tenant settings, gateway webhooks and outbound messages (issue 4).
        app.state.gateways = GatewayServices.start(services.ledger, SecretsSettings())
        app.state.readiness = Readiness(services)
        # Everything built so far lives as long as the process: keep the garbage
        # collector from walking it again and again (a full collection of serve's
        # start-up objects took 100-137 ms, the gap between p50 and p99), nor the
        # writer's state cache, nor the requests in flight at every 700 allocations.
        settle_after_start()
        # The writer's threads wait on PostgreSQL several times per group; each time the
        # event loop holds the interpreter they wait for it again. Python hands it over
        # every 5 ms by default: a group's read and commit took 16 and 12 ms under load
        # instead of 1 and 2. Handing over every 0.5 ms keeps them near the network's pace.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        log.info(
            "api started",
            extra={
                "storage": "postgresql"
                if storage.uses_postgres
                else f"sqlite:{storage.sqlite_path}"
            },
        )
        try:
            yield
        finally:
            await services.ledger.writer.aclose()  # the units queued so far are stored first
            services.close()
            log.info("api stopped")

    app = FastAPI(
        title="consent-ledger",
        version="0.1.0",
        summary="An event-sourced, tamper-evident consent ledger for business messaging.",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry hooks: the service reports through /metrics and its
        # log lines, and with them on every request looked up the global providers
        # (~2% of serve's CPU under load) to find them unconfigured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    add_raw_body_schemas(app)
    declare_error_answers(app)
    document_path_rules(app)
    for router in (
        health.router,
        events.router,
        messages.router,
        optin_requests.router,
        subjects.router,
        ops.router,
        imports.router,
        attestation.router,
        checkpoints.router,
        personal_data.router,
        tenants.router,
        webhooks_whatsapp.router,
        webhooks_twilio.router,
        webhooks_gupshup.router,
        outbound.router,
        optin_deliveries.router,
        campaigns.router,
        campaign_receipts.router,
        reports.router,
        consent_records.router,
        contacts.router,
        tlog.router,
        tlog_proofs.router,
        consent_as_of.router,
        subscriptions.router,
        sender_scope.router,
        lifecycle_settings.router,
        held_opt_outs.router,
        reconciliations.router,
    ):
        app.include_router(router)
    # The web pages (issue 16): console, operations dashboard, preference page.
    install_console(app, console if console is not None else ConsoleSettings())

    app.add_middleware(RequestLog, max_body_bytes=settings.max_body_bytes)
    return app
