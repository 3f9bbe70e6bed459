"""The Merkle log against RFC 6962 test vectors and the RFC's own recursive definitions."""

from __future__ import annotations

import hashlib
from functools import cache

import pytest

from ledger.attestation.proofs import (
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from ledger.crypto.merkle import (
    EMPTY_ROOT,
    CompactRange,
    leaf_hash,
    node_hash,
    root_hash,
    root_keys,
    tree_nodes,
)

# RFC 6962 reference data, as published with the Certificate Transparency code
# (transparency-dev/merkle testonly/constants.go and proof/verify_test.go).
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION_VECTORS = [  # (leaf index, tree size, proof)
    (0, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (5, 8, ["bc1a0643", "ca854ea1", "d37ee418"]),
    (2, 3, ["fac54203"]),
    (1, 5, ["6e340b9c", "5f083f0a", "bc1a0643"]),
]
CONSISTENCY_VECTORS = [  # (old size, new size, proof)
    (1, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (6, 8, ["0ebc5d34", "ca854ea1", "d37ee418"]),
    (2, 5, ["5f083f0a", "bc1a0643"]),
    (6, 7, ["0ebc5d34", "b08693ec", "d37ee418"]),
]
VECTOR_LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]
VECTOR_NODES = tree_nodes(VECTOR_LEAVES)


def test_the_hashes_are_rfc_6962s() -> None:
    assert EMPTY_ROOT.hex() == hashlib.sha256(b"").hexdigest()
    assert leaf_hash(b"").hex() == ROOTS[0]
    assert node_hash(VECTOR_LEAVES[0], VECTOR_LEAVES[1]).hex() == ROOTS[1]
    for size in range(1, 9):
        assert root_hash(size, VECTOR_NODES.__getitem__).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_inclusion_proofs_match_the_reference_vectors(
    index: int, size: int, expected: list[str]
) -> None:
    proof = inclusion_proof(index, size, VECTOR_NODES.__getitem__)
    assert [step.hex()[:8] for step in proof] == expected
    root = bytes.fromhex(ROOTS[size - 1])
    assert verify_inclusion(VECTOR_LEAVES[index], index, size, proof, root)


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_VECTORS)
def test_consistency_proofs_match_the_reference_vectors(
    old: int, new: int, expected: list[str]
) -> None:
    proof = consistency_proof(old, new, VECTOR_NODES.__getitem__)
    assert [step.hex()[:8] for step in proof] == expected
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, proof)
    assert not verify_consistency(old, new, new_root, old_root, proof)


# --- every tree size from 1 to 300, against the RFC's recursive definitions ----------
LEAVES = [leaf_hash(i.to_bytes(2, "big")) for i in range(300)]
NODES = tree_nodes(LEAVES)


@cache
def mth(start: int, end: int) -> bytes:
    """MTH(D[start:end]) exactly as RFC 6962 section 2.1 defines it."""
    if end - start == 1:
        return LEAVES[start]
    k = 1
    while k * 2 < end - start:
        k *= 2
    return node_hash(mth(start, start + k), mth(start + k, end))


def rfc_path(m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]) of RFC 6962 section 2.1.1."""
    if end - start == 1:
        return []
    k = 1
    while k * 2 < end - start:
        k *= 2
    if m < k:
        return [*rfc_path(m, start, start + k), mth(start + k, end)]
    return [*rfc_path(m - k, start + k, end), mth(start, start + k)]


def rfc_subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) of RFC 6962 section 2.1.2."""
    if m == end - start:
        return [] if complete else [mth(start, end)]
    k = 1
    while k * 2 < end - start:
        k *= 2
    if m <= k:
        return [*rfc_subproof(m, start, start + k, complete), mth(start + k, end)]
    return [*rfc_subproof(m - k, start + k, end, False), mth(start, start + k)]


def test_roots_and_inclusion_proofs_for_every_tree_size_up_to_300() -> None:
    for size in range(1, 301):
        root = root_hash(size, NODES.__getitem__)
        assert root == mth(0, size)
        for index in range(size):
            proof = inclusion_proof(index, size, NODES.__getitem__)
            assert proof == rfc_path(index, 0, size)
            assert verify_inclusion(LEAVES[index], index, size, proof, root)
        # Nothing else verifies: another leaf, another index, a shorter or longer proof.
        index = size // 3
        proof = inclusion_proof(index, size, NODES.__getitem__)
        other = LEAVES[(index + 1) % 300]
        assert not verify_inclusion(other, index, size, proof, root)
        assert not verify_inclusion(LEAVES[index], index, size, [*proof, root], root)
        assert not verify_inclusion(LEAVES[index], size, size, proof, root)
        if proof:
            assert not verify_inclusion(LEAVES[index], index, size, proof[:-1], root)
            flipped = bytes([proof[0][0] ^ 1]) + proof[0][1:]
            assert not verify_inclusion(LEAVES[index], index, size, [flipped, *proof[1:]], root)
        if size > 1:
            assert not verify_inclusion(LEAVES[index], index ^ 1, size, proof, root)


def test_consistency_proofs_between_every_pair_of_sizes_up_to_300() -> None:
    roots = [EMPTY_ROOT] + [mth(0, n) for n in range(1, 301)]
    for new in range(1, 301):
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, NODES.__getitem__)
            assert proof == rfc_subproof(old, 0, new, True)
            assert verify_consistency(old, new, roots[old], roots[new], proof)
        if new > 2:
            old = new // 2
            proof = consistency_proof(old, new, NODES.__getitem__)
            assert not verify_consistency(old, new, roots[old - 1], roots[new], proof)
            assert not verify_consistency(old, new, roots[old], roots[new - 1], proof)
            assert not verify_consistency(old, new, roots[old], roots[new], proof[:-1])
            assert not verify_consistency(old + 1, new, roots[old], roots[new], proof)


def test_the_right_edge_resumes_from_stored_nodes_at_any_size() -> None:
    """Sealing in batches of any size stores the same nodes as sealing all at once."""
    for batch in (1, 2, 3, 7, 64, 300):
        stored: dict[tuple[int, int], bytes] = {}
        sealed = 0
        while sealed < 300:
            edge = CompactRange.load(sealed, stored)
            for leaf in LEAVES[sealed : sealed + batch]:
                stored.update({(n.level, n.index): n.hash for n in edge.append(leaf)})
            sealed = edge.size
            assert edge.root() == mth(0, sealed)
            assert set(root_keys(sealed)) <= set(stored)
        assert stored == NODES
