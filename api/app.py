"""``create_app``: the FastAPI application, its lifespan and its routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.gateways.services import GatewayServices
from api.readiness import Readiness
from api.request_log import RequestLog
from api.routers import (
    attestation,
    campaigns,
    checkpoints,
    events,
    health,
    imports,
    messages,
    ops,
    optin_deliveries,
    optin_requests,
    outbound,
    personal_data,
    subjects,
    tenants,
    webhooks_gupshup,
    webhooks_twilio,
    webhooks_whatsapp,
)
from api.serve_settings import ServeSettings
from api.services import Services
from ledger.crypto.secret_box import SecretsSettings
from ledger.runtime.storage_settings import StorageSettings

log = logging.getLogger("api.requests")


def create_app(settings: ServeSettings, storage: StorageSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.start(settings, storage)
        app.state.services = services
        # Tenant settings, gateway webhooks and outbound messages (issue 4).
        app.state.gateways = GatewayServices.start(services.ledger, SecretsSettings())
        app.state.readiness = Readiness(services)
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
            services.close()
            log.info("api stopped")

    app = FastAPI(
        title="consent-ledger",
        version="0.1.0",
        summary="An event-sourced, tamper-evident consent ledger for business messaging.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
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
    ):
        app.include_router(router)

    app.add_middleware(RequestLog, max_body_bytes=settings.max_body_bytes)
    return app
