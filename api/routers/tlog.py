"""The log in the C2SP ``tlog-tiles`` layout: ``GET /checkpoint`` and ``GET /tile/<L>/<N>[.p/<W>]``.

Read-only, no API key: tiles hold hashes only (leaf hashes at level 0, subtree hashes
above), never an event, so they say nothing about anyone. The entries themselves
(``/tile/entries/…``) are not served here: a leaf is a whole event document, and the
auditor gets it, with its proof, from ``…/attestation`` or ``…/tlog-proofs`` (role
``auditor``).

Full tiles never change (``Cache-Control: immutable``); a partial tile of width W never
changes either, and names its width in its path; ``/checkpoint`` changes with every seal
and must not be cached.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.errors import ApiError
from api.services import Services
from ledger.crypto.tiles import TilePathError, parse_tile_path

router = APIRouter(tags=["tlog-tiles"])

IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "no-cache"


def _not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest checkpoint that counts (C2SP tlog-checkpoint, with cosignatures)",
)
async def checkpoint(services: ServicesDep) -> Response:
    note = await run_in_threadpool(_final_note, services)
    return PlainTextResponse(
        note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


def _final_note(services: Services) -> str:
    final = services.witnessed.latest_final()
    if final is None:
        raise _not_found("no checkpoint counts yet: none signed, or none cosigned by a quorum")
    return final.note


@router.get(
    "/tile/{level}/{rest:path}",
    summary="A tile of the Merkle tree (C2SP tlog-tiles): 32-byte hashes, concatenated",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def tile(level: str, rest: str, services: ServicesDep) -> Response:
    if level == "entries":
        raise _not_found(
            "entry bundles are not served: a leaf is an event document, given with its proof "
            "to auditors by /v1/subjects/{channel}/{address}/attestation"
        )
    try:
        wanted = parse_tile_path(level, rest)
    except TilePathError as error:
        raise _not_found(str(error)) from None
    body = await run_in_threadpool(
        _tile_bytes, services, wanted.node_keys(), wanted.leaves_needed()
    )
    return Response(
        body,
        media_type="application/octet-stream",
        headers={"Cache-Control": IMMUTABLE},
    )


def _tile_bytes(services: Services, keys: list[tuple[int, int]], leaves_needed: int) -> bytes:
    latest = services.merkle.latest_checkpoint()
    if latest is None or latest.tree_size < leaves_needed:
        raise _not_found("no checkpoint covers this tile yet")
    nodes = services.merkle.nodes(keys)
    if len(nodes) != len(keys):
        raise _not_found("this tile is not stored")
    return b"".join(nodes[key] for key in keys)
