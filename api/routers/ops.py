"""Operations: ``GET /readyz`` and ``GET /metrics`` (Prometheus text format)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.readiness import Readiness

router = APIRouter(tags=["operations"])


@router.get("/readyz", summary="Ready to serve: database, read-model lag, broker")
def readyz(request: Request) -> JSONResponse:
    readiness: Readiness = request.app.state.readiness
    ready, body = readiness.report()
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics of this API process")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
