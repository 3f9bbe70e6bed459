"""Proofs that a subject is, or is not, in a campaign's list (the sorted-id Merkle tree),
and that each kind of tampering with a proof is caught."""

from __future__ import annotations

import dataclasses
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.attestation.campaigns.sorted_ids import (
    Neighbour,
    NonMembership,
    SortedIdTree,
    sorted_ids,
    verify_membership,
    verify_non_membership,
)
from ledger.crypto.merkle import EMPTY_ROOT


def ids(*numbers: int) -> list[UUID]:
    return [UUID(int=n) for n in numbers]


ids_strategy = st.lists(st.integers(min_value=1, max_value=2**128 - 2), max_size=40)


@given(ids_strategy, st.integers(min_value=0, max_value=2**128 - 1))
def test_every_id_gets_exactly_one_kind_of_proof_and_it_verifies(
    members: list[int], probe: int
) -> None:
    tree = SortedIdTree(sorted_ids(UUID(int=n) for n in members))
    value = UUID(int=probe)
    inside = tree.membership(value)
    outside = tree.non_membership(value)
    assert (inside is None) != (outside is None)
    if inside is not None:
        assert verify_membership(value, inside, tree.size, tree.root)
    else:
        assert outside is not None
        assert verify_non_membership(value, outside, tree.size, tree.root)
    for member in tree.ids:  # every member proves membership, never absence
        proof = tree.membership(member)
        assert proof is not None
        assert verify_membership(member, proof, tree.size, tree.root)
        assert tree.non_membership(member) is None


def test_the_list_is_sorted_and_deduplicated_before_the_tree_is_built() -> None:
    assert sorted_ids(ids(3, 1, 2, 3)) == ids(1, 2, 3)
    assert SortedIdTree(sorted_ids(ids(3, 1, 2))).root == SortedIdTree(ids(1, 2, 3)).root
    with pytest.raises(ValueError, match="sorted"):
        SortedIdTree(ids(2, 1))


def test_the_empty_list_includes_nobody() -> None:
    tree = SortedIdTree([])
    assert tree.root == EMPTY_ROOT
    proof = tree.non_membership(UUID(int=5))
    assert proof == NonMembership(None, None)
    assert verify_non_membership(UUID(int=5), proof, 0, EMPTY_ROOT)
    assert not verify_non_membership(UUID(int=5), proof, 0, SortedIdTree(ids(1)).root)


@pytest.fixture
def tree() -> SortedIdTree:
    return SortedIdTree(ids(10, 20, 30, 40, 50, 60, 70))


def test_a_forged_absence_of_a_member_is_refused(tree: SortedIdTree) -> None:
    # Claim 30 is absent with the neighbours 20 and 40 (which are not adjacent)
    left, right = tree.membership(UUID(int=20)), tree.membership(UUID(int=40))
    assert left is not None
    assert right is not None
    assert not verify_non_membership(UUID(int=30), NonMembership(left, right), 7, tree.root)
    # ... or with 20 and 40 presented as if adjacent (index changed: its proof breaks)
    moved = dataclasses.replace(right, index=left.index + 1)
    assert not verify_non_membership(UUID(int=30), NonMembership(left, moved), 7, tree.root)
    # ... or with only one side, at an end that is not the end
    assert not verify_non_membership(UUID(int=30), NonMembership(left, None), 7, tree.root)
    assert not verify_non_membership(UUID(int=30), NonMembership(None, right), 7, tree.root)
    assert not verify_non_membership(UUID(int=30), NonMembership(None, None), 7, tree.root)


def test_tampered_neighbours_are_refused(tree: SortedIdTree) -> None:
    value = UUID(int=35)
    proof = tree.non_membership(value)
    assert proof is not None
    assert proof.left is not None
    assert proof.right is not None
    assert verify_non_membership(value, proof, 7, tree.root)
    # A neighbour's id changed (so it seems to surround another value): its proof breaks
    forged = dataclasses.replace(proof.left, id=UUID(int=31))
    assert not verify_non_membership(value, NonMembership(forged, proof.right), 7, tree.root)
    # A proof step altered
    bent = dataclasses.replace(proof.right, proof=[b"\x00" * 32, *proof.right.proof[1:]])
    assert not verify_non_membership(value, NonMembership(proof.left, bent), 7, tree.root)
    # The proof for another value (the neighbours do not surround 55)
    assert not verify_non_membership(UUID(int=55), proof, 7, tree.root)
    # Another root (the size and the root both come from the hashed receipt event)
    other = SortedIdTree(ids(10, 20, 30, 35, 40, 50, 60, 70))
    assert not verify_non_membership(value, proof, 7, other.root)
    # The right end claimed one leaf early: 70 is not the last of 7 leaves at index 5
    last = tree.non_membership(UUID(int=80))
    assert last is not None
    assert last.left is not None
    early = dataclasses.replace(last.left, index=5)
    assert not verify_non_membership(UUID(int=80), NonMembership(early, None), 7, tree.root)


def test_tampered_membership_is_refused(tree: SortedIdTree) -> None:
    proof = tree.membership(UUID(int=40))
    assert proof is not None
    assert not verify_membership(UUID(int=41), proof, 7, tree.root)  # another subject
    assert not verify_membership(
        UUID(int=41), dataclasses.replace(proof, id=UUID(int=41)), 7, tree.root
    )
    assert not verify_membership(UUID(int=40), dataclasses.replace(proof, index=4), 7, tree.root)


def test_proofs_survive_their_json_form(tree: SortedIdTree) -> None:
    value = uuid4()
    proof = tree.non_membership(value)
    assert proof is not None
    assert NonMembership.from_json(proof.to_json()) == proof
    member = tree.membership(UUID(int=70))
    assert member is not None
    assert Neighbour.from_json(member.to_json()) == member
