"""``GET /v1/subjects/{channel}/{address}/tlog-proofs``: each event's inclusion proof in the
C2SP ``tlog-proof`` form (role ``auditor``).

Each proof is ``c2sp.org/tlog-proof@v1``, an ``extra`` line holding the leaf bytes (the
event object's RFC 8785 canonical JSON: commitments, never clear personal data), the
leaf index, the inclusion proof and the checkpoint with its witnesses' cosignatures, so
it verifies offline with the log's key and the witnesses' keys alone. ``?version=N``
answers one event's proof as a ``.tlog-proof`` file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from api.deps import Auditor, ServicesDep
from api.errors import ApiError
from api.json_responses import json_response
from api.routers.attestation import with_cosignatures
from api.schemas import ErrorOut
from ledger.attestation.bundle import build_bundle
from ledger.attestation.leaves import leaf_bytes
from ledger.crypto.merkle import leaf_hash
from ledger.crypto.tlog_proof import TlogProof

router = APIRouter(prefix="/v1/subjects", tags=["attestation"])


def _leaf(entry: dict[str, Any]) -> bytes | None:
    for fixed_keys in (True, False):
        leaf = leaf_bytes(entry, fixed_keys=fixed_keys)
        if leaf_hash(leaf).hex() == entry.get("leaf_hash"):
            return leaf
    return None


def proofs_of(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    checkpoint = bundle["checkpoint"]
    proofs = []
    for entry in bundle["events"]:
        if entry.get("inclusion_proof") is None or entry.get("missing"):
            continue  # not sealed yet (or missing): no proof to give
        proof = TlogProof(
            index=entry["leaf_index"],
            inclusion_proof=tuple(bytes.fromhex(h) for h in entry["inclusion_proof"]),
            checkpoint=checkpoint["note"],
            extra=_leaf(entry),
        )
        proofs.append(
            {
                "version": entry["version"],
                "event_id": entry["event_id"],
                "leaf_index": entry["leaf_index"],
                "leaf_hash": entry["leaf_hash"],
                "tlog_proof": proof.text(),
            }
        )
    return proofs


@router.get(
    "/{channel}/{address}/tlog-proofs",
    responses={200: {"content": {"text/plain": {}}}, 404: {"model": ErrorOut}},
    summary="Each event's inclusion proof as a C2SP tlog-proof, with the cosigned checkpoint",
)
def tlog_proofs(
    channel: str,
    address: str,
    principal: Auditor,
    services: ServicesDep,
    version: Annotated[int | None, Query(ge=1, description="one event's proof, as a file")] = None,
) -> Response:
    bundle = build_bundle(
        services.ledger, services.merkle, principal.tenant, channel, address, proofs=services.proofs
    )
    if not bundle["events"]:
        raise ApiError(
            404, "subject_not_found", "the ledger holds no events of this subject", "address"
        )
    if bundle["checkpoint"] is None:
        raise ApiError(404, "no_checkpoint", "no checkpoint has been signed yet")
    bundle = with_cosignatures(bundle, services)
    proofs = proofs_of(bundle)
    if version is None:
        checkpoint = bundle["checkpoint"]
        return json_response(
            {
                "subject_id": bundle["subject"]["subject_id"],
                "checkpoint": {
                    key: checkpoint[key]
                    for key in ("origin", "tree_size", "root_hash", "cosigned_by", "final")
                },
                "proofs": proofs,
            }
        )
    chosen = next((p for p in proofs if p["version"] == version), None)
    if chosen is None:
        raise ApiError(
            404, "proof_not_found", f"no sealed event v{version} of this subject yet", "version"
        )
    return PlainTextResponse(
        chosen["tlog_proof"],
        headers={"Content-Disposition": f'attachment; filename="{chosen["event_id"]}.tlog-proof"'},
    )
