"""The C2SP ``tlog-tiles`` layout of the Merkle log (c2sp.org/tlog-tiles): hashes only.

A tile is 256 consecutive hashes of one tile level: at tile level 0 the leaf hashes, at
tile level ``l`` the hashes of the perfect subtrees of ``256**l`` leaves, i.e. the stored
perfect nodes of Merkle level ``8 * l``. The ``n``-th tile of a level holds the nodes
``(8 * l, n * 256 + i)`` for ``i`` in ``0 … W-1``; a full tile has ``W = 256`` (8,192 bytes),
a partial one ``1 ≤ W ≤ 255`` and is named with a ``.p/<W>`` suffix. Its path is
``tile/<L>/<N>[.p/<W>]``, ``<N>`` in zero-padded 3-digit elements, all but the last
prefixed with ``x`` (1234067 → ``x001/x234/067``).

Entry bundles (``tile/entries/…``) are not part of this module: a leaf of this log is a
whole event document, served only in bundles behind an auditor key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.crypto.merkle import NodeKey

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes
HASH_SIZE = 32
MAX_LEVEL = 63

_ELEMENT = re.compile(r"x\d{3}")
_LAST = re.compile(r"\d{3}")
_LEVEL = re.compile(r"0|[1-9]\d?")
_WIDTH = re.compile(r"[1-9]\d{0,2}")


class TilePathError(ValueError):
    """The path does not name a tile in the C2SP encoding."""


@dataclass(frozen=True)
class Tile:
    level: int  # the tile level L (Merkle level 8 * L)
    index: int  # N
    width: int  # W: 256 for a full tile

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]``."""
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{self.level}/{encode_index(self.index)}{suffix}"

    def node_keys(self) -> list[NodeKey]:
        """The stored perfect nodes the tile is made of, left to right."""
        level = TILE_HEIGHT * self.level
        first = self.index * TILE_WIDTH
        return [(level, first + i) for i in range(self.width)]

    def leaves_needed(self) -> int:
        """The smallest tree size that holds every hash of this tile."""
        return (self.index * TILE_WIDTH + self.width) << (TILE_HEIGHT * self.level)


def encode_index(index: int) -> str:
    """``<N>`` of a tile path: 3-digit elements, all but the last prefixed with ``x``."""
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    elements = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{e}" for e in elements[:-1]] + elements[-1:])


def parse_tile_path(level: str, rest: str) -> Tile:
    """The tile named by ``tile/<level>/<rest>``; ``TilePathError`` for anything else."""
    if not _LEVEL.fullmatch(level) or int(level) > MAX_LEVEL:
        raise TilePathError(f"tile level {level!r} is not a decimal 0-63 without leading zeros")
    width = TILE_WIDTH
    if ".p/" in rest:
        rest, _, spelled = rest.partition(".p/")
        if not _WIDTH.fullmatch(spelled) or int(spelled) >= TILE_WIDTH:
            raise TilePathError(f"partial tile width {spelled!r} is not a decimal 1-255")
        width = int(spelled)
    elements = rest.split("/")
    if not _LAST.fullmatch(elements[-1]) or not all(_ELEMENT.fullmatch(e) for e in elements[:-1]):
        raise TilePathError(f"tile index {rest!r} is not in the x001/x234/067 encoding")
    index = int("".join(e.lstrip("x") for e in elements))
    if encode_index(index) != rest:  # x000/… : a leading zero element is not canonical
        raise TilePathError(f"tile index {rest!r} is not canonically encoded")
    return Tile(level=int(level), index=index, width=width)


def tiles_for(size: int) -> list[Tile]:
    """Every tile of a tree of ``size`` leaves (full ones, then the partial one, per level)."""
    tiles: list[Tile] = []
    level = 0
    while level <= MAX_LEVEL:
        hashes = size >> (TILE_HEIGHT * level)  # perfect nodes at Merkle level 8 * level
        if hashes == 0:
            break
        full, partial = divmod(hashes, TILE_WIDTH)
        tiles.extend(Tile(level, n, TILE_WIDTH) for n in range(full))
        if partial:
            tiles.append(Tile(level, full, partial))
        level += 1
    return tiles
