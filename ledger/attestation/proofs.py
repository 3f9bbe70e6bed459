"""RFC 9162 inclusion and consistency proofs: building them and checking them.

Building is split in two pure steps so a store can answer many proofs with one query:
``*_steps`` names the perfect nodes each step of a proof folds, ``proof_from`` assembles
the proof from the nodes fetched.
Checking follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 to the letter and needs only hashes.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence

from ledger.crypto.merkle import NodeKey, NodeLookup, fold, node_hash, split_point, subtree_keys

Range = tuple[int, int]
# One proof step: the perfect nodes whose right fold is that step's subtree hash.
Step = list[NodeKey]


def inclusion_steps(index: int, size: int) -> list[Step]:
    """The steps of PATH(index, D[0:size]) (RFC 9162 2.1.3.1), from the leaf upwards.

    Below the level where the paths to ``index`` and to the last leaf part, each step is
    the sibling subtree (the last of them may be the tree's incomplete right edge);
    above it, the path runs along the right edge and takes the left sibling wherever
    there is one.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    inner = (index ^ (size - 1)).bit_length()
    steps: list[Step] = []
    for level in range(inner):
        sibling = (index >> level) ^ 1
        start = sibling << level
        if start + (1 << level) <= size:
            steps.append([(level, sibling)])
        else:  # the right edge, incomplete: only ever the last step below ``inner``
            steps.append(subtree_keys(start, size))
    for level in range(inner, size.bit_length()):
        if (index >> level) & 1:
            steps.append([(level, (index >> level) ^ 1)])
    return steps


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The subtrees whose hashes make up PROOF(old_size, D[0:new_size]) (RFC 9162 2.1.4.1)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves")
    ranges: list[Range] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def consistency_steps(old_size: int, new_size: int) -> list[Step]:
    return [subtree_keys(start, end) for start, end in consistency_ranges(old_size, new_size)]


def keys_of(steps: Iterable[Step]) -> set[NodeKey]:
    """Every stored node a set of proofs needs, so a store can fetch them in one query."""
    return {key for step in steps for key in step}


def proof_from(steps: Sequence[Step], lookup: NodeLookup) -> list[bytes]:
    return [fold(step, lookup) for step in steps]


def inclusion_proof(index: int, size: int, lookup: NodeLookup) -> list[bytes]:
    return proof_from(inclusion_steps(index, size), lookup)


def consistency_proof(old_size: int, new_size: int, lookup: NodeLookup) -> list[bytes]:
    return proof_from(consistency_steps(old_size, new_size), lookup)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree ``root``."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``old_root`` is a prefix of the tree ``new_root``."""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)
