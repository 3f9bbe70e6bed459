"""The log in the C2SP tlog-tiles layout over HTTP, on both backends, with a real sealer."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpoint import open_checkpoint
from ledger.attestation.checkpointer import Checkpointer
from ledger.attestation.proofs import inclusion_proof, verify_inclusion
from ledger.crypto.merkle import root_hash, tree_nodes
from ledger.crypto.tiles import tiles_for
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.support.attestation import new_sealer
from tests.support.commands import opt_in


@pytest.fixture
def sealer(storage: StorageSettings) -> Iterator[Checkpointer]:
    ledger = ConsentLedger(storage.eventsourcing_env())
    yield new_sealer(ledger, Ed25519PrivateKey.generate())
    ledger.close()


def record(sealer: Checkpointer, count: int, start: int = 0) -> None:
    ledger = sealer.ledger
    assert isinstance(ledger, ConsentLedger)
    addresses = [f"+1415555{n:04d}" for n in range(start, start + count)]
    for first in range(0, count, 100):
        ledger.record_batch([opt_in(a) for a in addresses[first : first + 100]])


def test_tiles_hold_the_leaf_and_subtree_hashes_of_the_signed_tree(
    api: Api, sealer: Checkpointer
) -> None:
    # Nothing signed yet: no checkpoint, no tile.
    assert api.client.get("/checkpoint").status_code == 404
    assert api.client.get("/tile/0/000.p/1").status_code == 404
    # Given 300 events, sealed
    record(sealer, 300)
    sealer.checkpoint_once()
    # When anyone (no API key) fetches the checkpoint and every tile of its tree
    response = api.client.get("/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    checkpoint = open_checkpoint(response.text, sealer.key.public_key())
    assert checkpoint.tree_size == 300
    fetched = {}
    for tile in tiles_for(300):
        answer = api.client.get("/" + tile.path())
        assert answer.status_code == 200, tile.path()
        assert answer.headers["content-type"] == "application/octet-stream"
        assert "immutable" in answer.headers["cache-control"]
        assert len(answer.content) == 32 * tile.width
        fetched[tile.path()] = answer.content
    assert sorted(fetched) == ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]
    # Then the level-0 tiles are the leaf hashes, and they rebuild the signed root
    level0 = fetched["tile/0/000"] + fetched["tile/0/001.p/44"]
    leaves = [level0[i : i + 32] for i in range(0, len(level0), 32)]
    nodes = tree_nodes(leaves)
    assert root_hash(300, nodes.__getitem__) == checkpoint.root_hash
    # And the level-1 tile holds the hash of the first 256 leaves
    assert fetched["tile/1/000.p/1"] == root_hash(256, tree_nodes(leaves[:256]).__getitem__)
    # And a tile no checkpoint covers, a malformed path or entry data is not served
    assert api.client.get("/tile/0/001").status_code == 404  # full tile 1 needs 512 leaves
    assert api.client.get("/tile/0/001.p/45").status_code == 404
    assert api.client.get("/tile/0/1").status_code == 404
    assert api.client.get("/tile/entries/000").status_code == 404
    # And an inclusion proof folded from tiles verifies against the checkpoint
    assert checkpoint.root_hash == base64.b64decode(response.text.split("\n")[2])
    proof = inclusion_proof(7, 300, nodes.__getitem__)
    assert verify_inclusion(leaves[7], 7, 300, proof, checkpoint.root_hash)
