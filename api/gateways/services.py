"""What the gateway and tenant endpoints hold while the API runs (built in the lifespan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.signals.intake import GatewayIntake
from ledger.application.signals.recorder import SignalRecorder
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox, SecretsSettings


@dataclass
class GatewayServices:
    tenants: TenantSettingsBook
    signals: SignalRecorder
    intake: GatewayIntake

    @classmethod
    def start(cls, ledger: ConsentLedger, secrets: SecretsSettings) -> GatewayServices:
        signals = SignalRecorder(ledger)
        return cls(
            tenants=TenantSettingsBook(ledger, SecretBox.from_settings(secrets)),
            signals=signals,
            intake=GatewayIntake(ledger, signals),
        )


async def get_gateway_services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.gateways
    return services


GatewaysDep = Annotated[GatewayServices, Depends(get_gateway_services)]
