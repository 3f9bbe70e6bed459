"""Operations: ``GET /readyz`` and ``GET /metrics`` (Prometheus text format)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.metrics_access import check_metrics_access
from api.readiness import Readiness
from api.schemas import ErrorOut
from api.services import Services

router = APIRouter(tags=["operations"])


@router.get("/readyz", summary="Ready to serve: database, read-model lag, broker")
def readyz(request: Request) -> JSONResponse:
    readiness: Readiness = request.app.state.readiness
    ready, body = readiness.report()
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics of this API process (loopback or a metrics token)",
    responses={403: {"model": ErrorOut}},
)
def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    check_metrics_access(request, services.settings)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
