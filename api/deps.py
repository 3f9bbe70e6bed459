"""Dependencies shared by the routers: services, the caller's key and its roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError
from api.services import Services
from ledger.application.api_keys import NOT_CACHED
from ledger.domain.roles import Principal, Role

# The dependencies are ``async``: FastAPI runs a plain ``def`` dependency on a worker
# thread, a hand-off per dependency per request, for work that takes microseconds.


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def principal_of(request: Request, *roles: Role) -> Principal:
    """The caller's key (``Authorization: Bearer``), holding one of ``roles`` if any are
    named (admin holds all). The hot routes call this directly; the others through the
    dependencies below."""
    authorization = request.headers.get("authorization")
    if not authorization:
        raise ApiError(
            401,
            "unauthorized",
            "an API key is required: Authorization: Bearer <key>",
            "Authorization",
        )
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "unauthorized", "use Authorization: Bearer <key>", "Authorization")
    presented = key.strip()
    services: Services = request.app.state.services
    principal = services.access.cached(presented)
    if principal is NOT_CACHED:  # a database read: not on the event loop
        principal = await run_in_threadpool(services.access.authenticate, presented)
    if principal is None:
        raise ApiError(401, "unauthorized", "the API key is not valid", "Authorization")
    if roles:
        allowed = {*roles, Role.ADMIN}
        if not principal.roles & allowed:
            names = " or ".join(sorted(r.value for r in allowed))
            raise ApiError(
                403, "forbidden", f"this needs a key with the role {names}", "Authorization"
            )
    return principal


async def authenticate(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    return await principal_of(request)


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through keys holding one of ``roles`` (admin holds all)."""

    async def check(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Principal:
        return await principal_of(request, *roles)

    return check


Ingest = Annotated[Principal, Depends(require(Role.INGEST))]
StatusReader = Annotated[Principal, Depends(require(Role.CAMPAIGN, Role.AUDITOR, Role.INGEST))]
DeliveryReader = Annotated[Principal, Depends(require(Role.INGEST, Role.AUDITOR))]
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR))]
Campaign = Annotated[Principal, Depends(require(Role.CAMPAIGN))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
AnyKey = Annotated[Principal, Depends(authenticate)]
