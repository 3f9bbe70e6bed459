"""``consent-ledger witness``: a small C2SP ``tlog-witness`` an auditor, a gateway provider
or a second business runs next to (never inside) the ledger.

``POST /add-checkpoint`` (the protocol), ``GET /healthz``, ``GET /metrics`` and
``GET /witness``: its name, verifier key and the logs it witnesses, with the size it
last cosigned for each. Its own Ed25519 key, its own state file, nothing of the ledger's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.concurrency import run_in_threadpool

from ledger.attestation.signing_keys import load_private_key
from ledger.attestation.witness_service import WitnessService
from ledger.crypto.signed_note import check_key_name, parse_verifier_key
from ledger.persistence.witness_state import WitnessState

log = logging.getLogger("ledger.witness")

MAX_BODY_BYTES = 64 * 1024
SUBMISSIONS = Counter(
    "consent_ledger_witness_add_checkpoint_total",
    "add-checkpoint requests this witness answered, by outcome "
    "(cosigned, conflict, fork, inconsistent, bad_signature, unknown_log, malformed)",
    ["outcome"],
)


class WitnessServerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    name: str = Field(default="consent-ledger.local/witness", alias="CONSENT_LEDGER_WITNESS_NAME")
    key: Path | None = Field(default=None, alias="CONSENT_LEDGER_WITNESS_KEY")
    state: Path = Field(
        default=Path("consent-ledger-witness.db"), alias="CONSENT_LEDGER_WITNESS_STATE"
    )
    logs: str = Field(default="", alias="CONSENT_LEDGER_WITNESS_LOGS")
    host: str = Field(default="127.0.0.1", alias="CONSENT_LEDGER_WITNESS_HOST")
    port: int = Field(default=8100, ge=0, le=65535, alias="CONSENT_LEDGER_WITNESS_PORT")

    def trusted_logs(self) -> dict[str, list[Ed25519PublicKey]]:
        """Log origin -> the keys trusted to sign its checkpoints (several: a rotation)."""
        logs: dict[str, list[Ed25519PublicKey]] = {}
        for vkey in self.logs.replace(",", "\n").split():
            origin, key = parse_verifier_key(vkey)
            logs.setdefault(origin, []).append(key)
        return logs


def build_service(settings: WitnessServerSettings) -> WitnessService:
    """The witness, or ``ValueError`` (or ``SigningKeyError``) saying which setting is wrong."""
    check_key_name(settings.name)
    if settings.key is None:
        raise ValueError(
            "CONSENT_LEDGER_WITNESS_KEY is not set: it names the witness's Ed25519 private key "
            "file (create one with: consent-ledger keys signing-key --out FILE)"
        )
    logs = settings.trusted_logs()
    if not logs:
        raise ValueError(
            "CONSENT_LEDGER_WITNESS_LOGS is empty: give the verifier key of each log to "
            "witness (GET /v1/public-key of the ledger: verifier_key)"
        )
    key = load_private_key(settings.key)
    return WitnessService(settings.name, key, logs, WitnessState(settings.state), time.time)


def create_witness_app(service: WitnessService) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.info(
            "witness started",
            extra={"witness": service.cosigner.vkey(), "logs": sorted(service.logs)},
        )
        try:
            yield
        finally:
            service.state.close()
            log.info("witness stopped")

    app = FastAPI(title="consent-ledger witness", lifespan=lifespan)

    @app.post("/add-checkpoint", summary="C2SP tlog-witness add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            SUBMISSIONS.labels("malformed").inc()
            return PlainTextResponse("the body is too large\n", status_code=413)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            SUBMISSIONS.labels("malformed").inc()
            return PlainTextResponse("the body is not UTF-8\n", status_code=400)
        answer = await run_in_threadpool(service.add_checkpoint, text)
        SUBMISSIONS.labels(answer.outcome).inc()
        head = text.partition("\n\n")[2].split("\n", 2)
        log.log(
            logging.INFO if answer.status == 200 else logging.WARNING,
            "add-checkpoint",
            extra={
                "status": answer.status,
                "outcome": answer.outcome,
                "origin": head[0] if head else None,
                "tree_size": head[1] if len(head) > 1 else None,
                "old_size": text.split("\n", 1)[0].removeprefix("old "),
            },
        )
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    @app.get("/witness", summary="This witness: its name, verifier key and logs")
    async def about() -> dict[str, Any]:
        return {
            "name": service.cosigner.name,
            "verifier_key": service.cosigner.vkey(),
            "logs": {
                origin: (latest.tree_size if (latest := service.state.latest(origin)) else 0)
                for origin in sorted(service.logs)
            },
        }

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
