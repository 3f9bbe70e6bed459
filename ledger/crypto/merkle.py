"""The RFC 6962 / RFC 9162 Merkle tree hash, and the log's compact right edge.

``leaf hash = SHA-256(0x00 || leaf bytes)``, ``node hash = SHA-256(0x01 || left || right)``.
The tree over ``n`` leaves splits at the largest power of two smaller than ``n``, so every
tree is made of *perfect* subtrees: a node ``(level, index)`` covers the leaves
``[index * 2**level, (index + 1) * 2**level)``. The log stores each perfect node once it is
complete and never changes it; any other subtree hash is folded from perfect nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

# A perfect subtree: (level, index) covers leaves [index << level, (index + 1) << level).
NodeKey = tuple[int, int]
NodeLookup = Callable[[NodeKey], bytes]


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


def subtree_keys(start: int, end: int) -> list[NodeKey]:
    """The perfect nodes the subtree hash of leaves ``[start, end)`` is folded from.

    A subtree of an RFC 6962 tree starts at a multiple of the largest power of two not
    above its size, so it is made of one perfect node per set bit of its size, largest
    first; its hash folds them from the right.
    """
    size = end - start
    if size <= 0:
        raise ValueError(f"empty range [{start}, {end})")
    if start % (1 << (size.bit_length() - 1)):
        raise ValueError(f"[{start}, {end}) is not a subtree of any tree")
    keys: list[NodeKey] = []
    while size:
        level = size.bit_length() - 1
        keys.append((level, start >> level))
        start += 1 << level
        size -= 1 << level
    return keys


def fold(keys: Sequence[NodeKey], lookup: NodeLookup) -> bytes:
    """The hash of perfect nodes left to right (``subtree_keys`` order), right first."""
    result = lookup(keys[-1])
    for key in reversed(keys[:-1]):
        result = node_hash(lookup(key), result)
    return result


def subtree_hash(start: int, end: int, lookup: NodeLookup) -> bytes:
    """The RFC 6962 hash of leaves ``[start, end)``, from stored perfect nodes."""
    return fold(subtree_keys(start, end), lookup)


def root_keys(size: int) -> list[NodeKey]:
    """The perfect nodes the root of a tree of ``size`` leaves is folded from."""
    return subtree_keys(0, size) if size else []


def root_hash(size: int, lookup: NodeLookup) -> bytes:
    return subtree_hash(0, size, lookup) if size else EMPTY_ROOT


@dataclass(frozen=True)
class NewNode:
    level: int
    index: int
    hash: bytes


class CompactRange:
    """The right edge of a growing log: one perfect node per set bit of its size.

    Appending a leaf merges equal-sized neighbours into their parent, which yields every
    perfect node that became complete; the root folds the edge from the right.
    """

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        keys = root_keys(size)
        if len(edge) != len(keys):
            raise ValueError(f"a log of {size} leaves has {len(keys)} edge nodes")
        self.size = size
        # (level, hash) of the perfect nodes of root_keys(size), largest (leftmost) first.
        self._edge = [(level, node) for (level, _), node in zip(keys, edge, strict=True)]

    @classmethod
    def load(cls, size: int, nodes: Mapping[NodeKey, bytes]) -> CompactRange:
        return cls(size, [nodes[key] for key in root_keys(size)])

    def append(self, leaf: bytes) -> list[NewNode]:
        """Add one leaf hash; return the perfect nodes it completed (the leaf first)."""
        end = self.size + 1
        created = [NewNode(0, self.size, leaf)]
        level, current = 0, leaf
        while self._edge and self._edge[-1][0] == level:
            _, left = self._edge.pop()
            current = node_hash(left, current)
            level += 1
            created.append(NewNode(level, (end >> level) - 1, current))
        self._edge.append((level, current))
        self.size = end
        return created

    def root(self) -> bytes:
        if not self._edge:
            return EMPTY_ROOT
        result = self._edge[-1][1]
        for _, left in reversed(self._edge[:-1]):
            result = node_hash(left, result)
        return result


def tree_nodes(leaves: Iterable[bytes]) -> dict[NodeKey, bytes]:
    """Every perfect node of the tree over ``leaves`` (leaf hashes), kept in memory."""
    log = CompactRange()
    nodes: dict[NodeKey, bytes] = {}
    for leaf in leaves:
        nodes.update({(n.level, n.index): n.hash for n in log.append(leaf)})
    return nodes
