"""A Merkle tree over a sorted set of ids, with proofs of membership and of non-membership.

This is the construction behind campaign receipts:

* **Leaves.** The distinct ids, sorted by their 16 bytes (the same order as their
  lowercase hex text); each leaf is the id's 16 raw bytes. The tree is RFC 6962 hashing
  (``crypto/merkle.py``): ``leaf = SHA-256(0x00 || id)``, ``node = SHA-256(0x01 || l || r)``;
  the root of the empty set is ``SHA-256("")``.
* **Membership** of ``x``: its index ``i`` and the RFC 9162 inclusion proof of leaf ``i``
  in the tree of ``n`` leaves.
* **Non-membership** of ``x``: the two leaves that would surround it, the largest id
  below ``x`` (``left``, at index ``i``) and the smallest above it (``right``, at
  ``i + 1``), each with its inclusion proof. The check: both proofs hold against the
  root for ``n`` leaves, ``right.index == left.index + 1`` and ``left < x < right``.
  At the ends only one neighbour exists: ``right`` at index 0 with ``x < right``, or
  ``left`` at index ``n - 1`` with ``left < x``. The empty set (``n = 0``, the empty
  root) includes nothing. Since the leaves are sorted and the two neighbours are
  adjacent, no leaf can lie between them, so none equals ``x``.

What the proofs rest on: the ledger sorts the list before it builds the tree. An auditor
who wants to check that too fetches the whole list of the receipt and rebuilds the root.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.attestation.proofs import inclusion_proof, verify_inclusion
from ledger.crypto.merkle import EMPTY_ROOT, NodeKey, leaf_hash, root_hash, tree_nodes


def sorted_ids(ids: Iterable[UUID]) -> list[UUID]:
    """The distinct ids in leaf order (a UUID compares as its 128-bit big-endian number)."""
    return sorted(set(ids))


def id_leaf(value: UUID) -> bytes:
    return leaf_hash(value.bytes)


@dataclass(frozen=True)
class Neighbour:
    """A leaf of the tree and the proof that it is there."""

    index: int
    id: UUID
    proof: list[bytes]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "subject_id": str(self.id),
            "inclusion_proof": [p.hex() for p in self.proof],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Neighbour:
        return cls(
            index=int(doc["index"]),
            id=UUID(str(doc["subject_id"])),
            proof=[bytes.fromhex(p) for p in doc["inclusion_proof"]],
        )


@dataclass(frozen=True)
class NonMembership:
    """The neighbours that show an id is not in the set (either is None at an end)."""

    left: Neighbour | None
    right: Neighbour | None

    def to_json(self) -> dict[str, Any]:
        return {
            "left": self.left.to_json() if self.left else None,
            "right": self.right.to_json() if self.right else None,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> NonMembership:
        left, right = doc.get("left"), doc.get("right")
        return cls(
            left=Neighbour.from_json(left) if left is not None else None,
            right=Neighbour.from_json(right) if right is not None else None,
        )


class SortedIdTree:
    """The tree over a sorted list of distinct ids, kept in memory to answer proofs."""

    def __init__(self, ids: Sequence[UUID]) -> None:
        if any(a >= b for a, b in itertools.pairwise(ids)):
            raise ValueError("the ids must be sorted and distinct (use sorted_ids)")
        self.ids = list(ids)
        self._nodes: dict[NodeKey, bytes] = tree_nodes(id_leaf(i) for i in self.ids)
        self.root = root_hash(len(self.ids), self._nodes.__getitem__)

    @property
    def size(self) -> int:
        return len(self.ids)

    def _leaf(self, index: int) -> Neighbour:
        proof = inclusion_proof(index, self.size, self._nodes.__getitem__)
        return Neighbour(index, self.ids[index], proof)

    def membership(self, value: UUID) -> Neighbour | None:
        """The proof that ``value`` is in the set, or None if it is not."""
        index = bisect.bisect_left(self.ids, value)
        if index < self.size and self.ids[index] == value:
            return self._leaf(index)
        return None

    def non_membership(self, value: UUID) -> NonMembership | None:
        """The proof that ``value`` is not in the set, or None if it is."""
        index = bisect.bisect_left(self.ids, value)
        if index < self.size and self.ids[index] == value:
            return None
        left = self._leaf(index - 1) if index > 0 else None
        right = self._leaf(index) if index < self.size else None
        return NonMembership(left, right)


def verify_membership(value: UUID, proof: Neighbour, size: int, root: bytes) -> bool:
    """Whether ``proof`` shows ``value`` in the set of ``size`` ids with this root."""
    return proof.id == value and verify_inclusion(
        id_leaf(value), proof.index, size, proof.proof, root
    )


def verify_non_membership(value: UUID, proof: NonMembership, size: int, root: bytes) -> bool:
    """Whether ``proof`` shows ``value`` outside the set of ``size`` ids with this root."""
    left, right = proof.left, proof.right
    if size == 0:
        return left is None and right is None and root == EMPTY_ROOT
    if left is None and right is None:
        return False
    for leaf in (left, right):
        if leaf is not None and not verify_inclusion(
            id_leaf(leaf.id), leaf.index, size, leaf.proof, root
        ):
            return False
    if left is not None and not left.id < value:
        return False
    if right is not None and not value < right.id:
        return False
    if left is None:
        return right is not None and right.index == 0
    if right is None:
        return left.index == size - 1
    return right.index == left.index + 1
