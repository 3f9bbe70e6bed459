"""The attestation log's public face: ``GET /v1/checkpoints/latest``,
``GET /v1/proofs/consistency?from=N&to=M`` and ``GET /v1/public-key``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from api.attestation_schemas import CheckpointOut, ConsistencyOut, PublicKeyOut
from api.deps import AnyKey, ServicesDep
from api.errors import ApiError
from api.schemas import MAX_POSITION, ErrorOut
from api.services import Services
from ledger.attestation.proofs import consistency_steps, keys_of, proof_from
from ledger.attestation.signing_keys import public_key_from_raw, public_pem
from ledger.crypto.merkle import root_hash, root_keys
from ledger.crypto.signed_note import key_id, verifier_key
from ledger.domain.errors import InvalidInput
from ledger.domain.times import format_time
from ledger.persistence.merkle_store import StoredCheckpoint

router = APIRouter(tags=["attestation"])


def _latest(services: Services) -> StoredCheckpoint:
    checkpoint = services.merkle.latest_checkpoint()
    if checkpoint is None:
        raise ApiError(
            404, "no_checkpoint", "no checkpoint has been signed yet: run consent-ledger seal"
        )
    return checkpoint


@router.get(
    "/v1/checkpoints/latest",
    response_model=CheckpointOut,
    responses={404: {"model": ErrorOut}},
    summary="The latest signed checkpoint (C2SP tlog-checkpoint signed note) and its fields",
)
def latest_checkpoint(_: AnyKey, services: ServicesDep) -> CheckpointOut:
    checkpoint = _latest(services)
    key = public_key_from_raw(checkpoint.public_key)
    witnessed = services.witnessed.witnessed(
        checkpoint.tree_size, checkpoint.root_hash, checkpoint.note
    )
    final = witnessed if witnessed.final else services.witnessed.latest_final()
    return CheckpointOut(
        note=witnessed.note,
        cosigned_by=list(witnessed.cosigned_by),
        final=witnessed.final,
        quorum=services.witnessed.policy.describe(),
        latest_final_tree_size=final.tree_size if final else None,
        origin=checkpoint.origin,
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash.hex(),
        time=format_time(checkpoint.time),
        key_name=checkpoint.origin,
        key_id=key_id(checkpoint.origin, key).hex(),
    )


@router.get(
    "/v1/proofs/consistency",
    response_model=ConsistencyOut,
    response_model_by_alias=True,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="RFC 9162 consistency proof between two tree sizes of the log",
)
def consistency(
    _: AnyKey,
    services: ServicesDep,
    from_: Annotated[
        int, Query(alias="from", ge=1, le=MAX_POSITION, description="the older tree size")
    ],
    to: Annotated[int, Query(ge=1, le=MAX_POSITION, description="the newer tree size")],
) -> ConsistencyOut:
    if from_ > to:
        raise InvalidInput(f"from ({from_}) must not exceed to ({to})", field="from")
    latest = _latest(services)
    if to > latest.tree_size:
        raise InvalidInput(
            f"the latest checkpoint covers {latest.tree_size} leaves; to ({to}) is beyond it",
            field="to",
        )
    steps = consistency_steps(from_, to)
    nodes = services.merkle.nodes(keys_of(steps) | set(root_keys(from_)) | set(root_keys(to)))
    return ConsistencyOut.model_validate(
        {
            "from": from_,
            "to": to,
            "proof": [step.hex() for step in proof_from(steps, nodes.__getitem__)],
            "from_root": root_hash(from_, nodes.__getitem__).hex(),
            "to_root": root_hash(to, nodes.__getitem__).hex(),
        }
    )


@router.get(
    "/v1/public-key",
    response_model=PublicKeyOut,
    responses={200: {"content": {"application/x-pem-file": {}}}, 404: {"model": ErrorOut}},
    summary="The Ed25519 public key that signs the checkpoints (no API key needed)",
)
def public_key(
    services: ServicesDep,
    fmt: Annotated[Literal["json", "pem"], Query(alias="format")] = "json",
) -> Response | PublicKeyOut:
    checkpoint = _latest(services)
    key = public_key_from_raw(checkpoint.public_key)
    if fmt == "pem":
        return PlainTextResponse(public_pem(key), media_type="application/x-pem-file")
    return PublicKeyOut(
        key_name=checkpoint.origin,
        key_id=key_id(checkpoint.origin, key).hex(),
        public_key_pem=public_pem(key),
        verifier_key=verifier_key(checkpoint.origin, key),
    )


@router.get(
    "/v1/public-keys",
    responses={404: {"model": ErrorOut}},
    summary="Every key that signed checkpoints, with its validity range and rotation",
)
def public_keys(services: ServicesDep) -> dict[str, Any]:
    """The key history (no API key needed): each key in the order it took over, the first
    and last tree size it signed (``until_tree_size`` null: it signs now), and, for every
    key after the first, the rotation checkpoint signed by the key before it and by it."""
    spans = services.witnessed.cosignatures.key_spans()
    if not spans:
        raise ApiError(404, "no_checkpoint", "no checkpoint has been signed yet")
    origin = _latest(services).origin
    keys = []
    for position, span in enumerate(spans):
        key = public_key_from_raw(span.public_key)
        current = position == len(spans) - 1
        keys.append(
            {
                "key_id": key_id(origin, key).hex(),
                "verifier_key": verifier_key(origin, key),
                "public_key_pem": public_pem(key),
                "from_tree_size": span.first_tree_size,
                "until_tree_size": None if current else span.last_tree_size,
                "from_time": format_time(span.first_time),
                "until_time": None if current else format_time(span.last_time),
                "rotation_note": span.first_note if position else None,
            }
        )
    return {"origin": origin, "keys": keys}
