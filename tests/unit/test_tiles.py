"""The C2SP tlog-tiles layout, against the spec's own examples and the tree's definition."""

from __future__ import annotations

import hashlib

import pytest

from ledger.crypto.merkle import leaf_hash, root_hash, tree_nodes
from ledger.crypto.tiles import (
    TILE_WIDTH,
    Tile,
    TilePathError,
    encode_index,
    parse_tile_path,
    tiles_for,
)


def test_the_index_encoding_of_the_spec() -> None:
    # c2sp.org/tlog-tiles: "index 1234067 will be encoded as x001/x234/067"
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(0) == "000"
    assert encode_index(999) == "999"
    assert encode_index(1000) == "x001/000"
    assert parse_tile_path("0", "x001/x234/067") == Tile(0, 1234067, TILE_WIDTH)
    assert Tile(2, 1234067, 17).path() == "tile/2/x001/x234/067.p/17"
    assert parse_tile_path("2", "x001/x234/067.p/17") == Tile(2, 1234067, 17)


@pytest.mark.parametrize(
    ("level", "rest"),
    [
        ("00", "000"),  # leading zero in the level
        ("64", "000"),  # beyond level 63
        ("0", "1"),  # not three digits
        ("0", "x000/001"),  # a leading zero element is not canonical
        ("0", "001/002"),  # all but the last element carry an x
        ("0", "000.p/256"),  # a partial tile is narrower than 256
        ("0", "000.p/0"),
        ("0", "000.p/07"),
        ("0", "../000"),
    ],
)
def test_paths_outside_the_encoding_are_refused(level: str, rest: str) -> None:
    with pytest.raises(TilePathError):
        parse_tile_path(level, rest)


def test_the_tiles_of_a_tree_of_70000_leaves_are_the_specs() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
    # level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width
    # 17, and one partial level 2 tile of width 1."
    tiles = tiles_for(70_000)
    level0 = [t for t in tiles if t.level == 0]
    assert len([t for t in level0 if not t.is_partial]) == 273
    assert [t for t in level0 if t.is_partial] == [Tile(0, 273, 112)]
    assert [t for t in tiles if t.level == 1] == [Tile(1, 0, 256), Tile(1, 1, 17)]
    assert [t for t in tiles if t.level == 2] == [Tile(2, 0, 1)]
    # "a tree of size 256 will be represented by a full level 0 tile and a partial
    # level 1 tile of width 1"
    assert tiles_for(256) == [Tile(0, 0, 256), Tile(1, 0, 1)]
    assert tiles_for(0) == []


def test_a_level_1_hash_is_the_tree_hash_of_a_full_level_0_tile() -> None:
    # MTH(D[(n*256 + i) * 256**l : (n*256 + i + 1) * 256**l]) for l = 1
    leaves = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(600)]
    nodes = tree_nodes(leaves)
    level1 = Tile(1, 0, 2)
    assert level1.node_keys() == [(8, 0), (8, 1)]
    for i, key in enumerate(level1.node_keys()):
        expected = root_hash(256, tree_nodes(leaves[i * 256 : (i + 1) * 256]).__getitem__)
        assert nodes[key] == expected
    partial = Tile(0, 2, 88)
    assert [nodes[k] for k in partial.node_keys()] == leaves[512:600]
    assert partial.leaves_needed() == 600
    assert level1.leaves_needed() == 512
