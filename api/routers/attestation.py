"""``GET /v1/subjects/{channel}/{address}/attestation``: the verifiable bundle (JSON, CSV
or a printable HTML report), optionally ``as_of`` a past moment of the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api.attestation_csv import render_csv
from api.attestation_html import render_html
from api.deps import Auditor, ServicesDep
from api.errors import ApiError
from api.json_responses import json_response
from api.schemas import ErrorOut
from api.services import Services
from ledger.attestation.bundle import build_bundle
from ledger.attestation.revocations import subject_revocations
from ledger.domain.compliance_policy import CompliancePolicy, jurisdiction_of
from ledger.domain.errors import InvalidInput
from ledger.domain.times import format_time, parse_time

router = APIRouter(prefix="/v1/subjects", tags=["attestation"])

Format = Annotated[
    Literal["json", "csv", "html"],
    Query(alias="format", description="json (the bundle), csv (its events) or html (a report)"),
]
AsOf = Annotated[
    str | None,
    Query(
        description="an RFC 3339 time: the history as the ledger knew it then (its recorded_at) "
        "and the consent it showed",
        examples=["2026-11-21T10:00:00Z"],
    ),
]


@router.get(
    "/{channel}/{address}/attestation",
    responses={
        200: {"content": {"text/csv": {}, "text/html": {}}},
        404: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
    summary="The subject's events with hash chain, Merkle inclusion proofs and signed checkpoint",
)
def attestation(
    channel: str,
    address: str,
    principal: Auditor,
    services: ServicesDep,
    fmt: Format = "json",
    as_of: AsOf = None,
) -> Response:
    moment = parse_as_of(as_of)

    bundle = sealed_bundle(services, principal.tenant, channel, address, moment)
    if not bundle["events"] and moment is None:
        raise ApiError(
            404, "subject_not_found", "the ledger holds no events of this subject", "address"
        )
    _link_campaign_receipts(bundle)
    _retention(bundle, services.compliance.policy_for(principal.tenant))
    if fmt == "csv":
        name = f"attestation-{bundle['subject']['subject_id']}.csv"
        return Response(
            render_csv(bundle),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if fmt == "html":
        bundle["revocations"] = [
            r.to_json()
            for r in subject_revocations(
                services.ledger,
                services.campaign_receipts,
                services.compliance.policy_for(principal.tenant),
                principal.tenant,
                UUID(bundle["subject"]["subject_id"]),
            )
        ]
        return HTMLResponse(render_html(bundle))
    return json_response(bundle)


def _link_campaign_receipts(bundle: dict[str, Any]) -> None:
    """Where the subject's campaign receipt proofs are: linked, not embedded, so bundles
    stay fast (one link per opt-out for its non-inclusion proofs)."""
    if bundle["subject"]["address"] is None:  # erased (or never disclosed): no address
        return
    base = f"/v1/subjects/{bundle['subject']['channel']}/{quote(bundle['subject']['address'])}"
    bundle["campaign_receipts"] = {
        "included": f"{base}/campaigns",
        "after_opt_outs": [
            f"{base}/campaigns?after_opt_out={event['event_id']}"
            for event in bundle["events"]
            if event.get("type") == "opted_out"
        ],
    }


def parse_as_of(as_of: str | None) -> datetime | None:
    if as_of is None:
        return None
    try:
        return parse_time(as_of)
    except ValueError:
        raise InvalidInput(
            f"as_of {as_of!r} is not an RFC 3339 time with a zone offset",
            field="as_of",
            code="invalid_time",
        ) from None


def sealed_bundle(
    services: Services, tenant: str, channel: str, address: str, moment: datetime | None
) -> dict[str, Any]:
    """The subject's bundle, with its witnesses' cosignatures; on the embedded default,
    sealed first if it lacks proofs."""

    def build() -> dict[str, Any]:
        bundle = build_bundle(
            services.ledger,
            services.merkle,
            tenant,
            channel,
            address,
            as_of=moment,
            proofs=services.proofs,
        )
        return with_cosignatures(bundle, services)

    bundle = build()
    unsealed = any(event.get("inclusion_proof") is None for event in bundle["events"])
    sealer = services.checkpoints  # set when this process seals (the embedded default)
    if unsealed and sealer is not None and sealer.seal_now(services.settings.read_wait_seconds):
        bundle = build()  # sealed what the bundle lacked, at once
    return bundle


def with_cosignatures(bundle: dict[str, Any], services: Services) -> dict[str, Any]:
    """The bundle's checkpoint note with its witnesses' verified cosignatures (issue 18),
    and whether it counts under the witness policy (``final``)."""
    checkpoint = bundle.get("checkpoint")
    if checkpoint is not None:
        witnessed = services.witnessed.witnessed(
            checkpoint["tree_size"], bytes.fromhex(checkpoint["root_hash"]), checkpoint["note"]
        )
        checkpoint["note"] = witnessed.note
        checkpoint["cosigned_by"] = list(witnessed.cosigned_by)
        checkpoint["final"] = witnessed.final
    return bundle


def _retention(bundle: dict[str, Any], policy: CompliancePolicy) -> None:
    """``retention_until``: the last event's ledger time plus the tenant's retention for
    the subject's jurisdiction (the ``default`` one once the address is erased)."""
    times = [parse_time(e["recorded_at"]) for e in bundle["events"] if e.get("recorded_at")]
    if not times:
        return
    jurisdiction = jurisdiction_of(bundle["subject"]["address"])
    bundle["retention_until"] = format_time(policy.retention_until(jurisdiction, max(times)))
