"""``/v1/tenants/{tenant}/subscriptions``: downstream webhooks and their deliveries.

Admin keys of the tenant itself only. The dead-letter list is ``…/deliveries?status=dead``;
a dead delivery holds its subject's later ones back until it is replayed or skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Response

from api.deps import Admin, ServicesDep
from api.errors import ApiError
from api.schemas import ErrorOut
from api.subscription_schemas import (
    CountOut,
    DeliveriesOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionsOut,
    delivery_out,
    subscription_out,
)
from ledger.application.webhooks.subscriptions import (
    DeliveryNotFound,
    SubscriptionNotFound,
    SubscriptionRequest,
)
from ledger.domain.roles import Principal

router = APIRouter(prefix="/v1/tenants", tags=["webhooks"])

ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
}
T = TypeVar("T")


def _own(principal: Principal, tenant: str) -> None:
    if principal.tenant != tenant:
        raise ApiError(403, "forbidden", "a key manages its own tenant only", "tenant")


def _found(call: Callable[[], T]) -> T:
    try:
        return call()
    except (SubscriptionNotFound, DeliveryNotFound) as error:
        raise ApiError(404, error.code, error.message, error.field) from None


@router.put(
    "/{tenant}/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    responses=ERRORS,
    summary="Create or replace a webhook subscription (URL, event types, whsec_ secret)",
)
def put_subscription(
    tenant: str, subscription_id: str, body: SubscriptionIn, principal: Admin, services: ServicesDep
) -> SubscriptionOut:
    _own(principal, tenant)
    request = SubscriptionRequest(
        url=body.url, secret=body.secret, event_types=tuple(body.event_types)
    )
    subscription = services.webhooks.put(tenant, subscription_id, request)
    return subscription_out(
        subscription, services.webhooks.previous_secret_until(tenant, subscription_id)
    )


@router.get(
    "/{tenant}/subscriptions",
    response_model=SubscriptionsOut,
    responses=ERRORS,
    summary="The tenant's webhook subscriptions",
)
def list_subscriptions(tenant: str, principal: Admin, services: ServicesDep) -> SubscriptionsOut:
    _own(principal, tenant)
    return SubscriptionsOut(
        subscriptions=[subscription_out(s) for s in services.webhooks.of_tenant(tenant)]
    )


@router.get(
    "/{tenant}/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    responses=ERRORS,
    summary="One webhook subscription (never its secret)",
)
def get_subscription(
    tenant: str, subscription_id: str, principal: Admin, services: ServicesDep
) -> SubscriptionOut:
    _own(principal, tenant)
    subscription = _found(lambda: services.webhooks.get(tenant, subscription_id))
    return subscription_out(
        subscription, services.webhooks.previous_secret_until(tenant, subscription_id)
    )


@router.delete(
    "/{tenant}/subscriptions/{subscription_id}",
    status_code=204,
    responses=ERRORS,
    summary="Delete a subscription and its undelivered deliveries",
)
def delete_subscription(
    tenant: str, subscription_id: str, principal: Admin, services: ServicesDep
) -> Response:
    _own(principal, tenant)
    _found(lambda: services.webhooks.delete(tenant, subscription_id))
    return Response(status_code=204)


@router.get(
    "/{tenant}/subscriptions/{subscription_id}/deliveries",
    response_model=DeliveriesOut,
    responses=ERRORS,
    summary="Deliveries in ledger order; ?status=dead is the dead-letter list",
)
def list_deliveries(
    tenant: str,
    subscription_id: str,
    principal: Admin,
    services: ServicesDep,
    status: str | None = None,
    limit: int = 100,
) -> DeliveriesOut:
    _own(principal, tenant)
    found = _found(lambda: services.webhooks.deliveries(tenant, subscription_id, status, limit))
    return DeliveriesOut(deliveries=[delivery_out(d) for d in found])


@router.post(
    "/{tenant}/subscriptions/{subscription_id}/replay",
    response_model=CountOut,
    responses=ERRORS,
    summary="Send every dead delivery of the subscription again",
)
def replay_dead(
    tenant: str, subscription_id: str, principal: Admin, services: ServicesDep
) -> CountOut:
    _own(principal, tenant)
    return CountOut(count=_found(lambda: services.webhooks.replay(tenant, subscription_id, None)))


@router.post(
    "/{tenant}/subscriptions/{subscription_id}/deliveries/{delivery_id}/replay",
    response_model=CountOut,
    responses=ERRORS,
    summary="Send a dead or skipped delivery again",
)
def replay_one(
    tenant: str, subscription_id: str, delivery_id: str, principal: Admin, services: ServicesDep
) -> CountOut:
    _own(principal, tenant)
    return CountOut(
        count=_found(lambda: services.webhooks.replay(tenant, subscription_id, delivery_id))
    )


@router.post(
    "/{tenant}/subscriptions/{subscription_id}/deliveries/{delivery_id}/skip",
    response_model=CountOut,
    responses=ERRORS,
    summary="Give up on a pending or dead delivery, so its subject's later ones go ahead",
)
def skip_one(
    tenant: str, subscription_id: str, delivery_id: str, principal: Admin, services: ServicesDep
) -> CountOut:
    _own(principal, tenant)
    _found(lambda: services.webhooks.skip(tenant, subscription_id, delivery_id))
    return CountOut(count=1)
