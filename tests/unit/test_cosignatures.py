"""Witness cosignatures (C2SP tlog-cosignature), tlog-proof texts and tlog-policy quorums,
against the specs' own examples."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.attestation.witness_policy import PolicyError, Witness, k_of_n, parse_policy
from ledger.crypto.cosignature import (
    Cosigner,
    add_signature_lines,
    cosign,
    parse_vkey,
    signed_message,
    verified_cosignatures,
)
from ledger.crypto.signed_note import NoteError, parse, sign
from ledger.crypto.tlog_proof import TlogProof, TlogProofError, parse_tlog_proof

# c2sp.org/tlog-cosignature: a checkpoint with a log signature and a witness cosignature.
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlr"
    "DJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
# c2sp.org/tlog-proof: the example's head (its signature lines are elided in the spec).
SPEC_PROOF_HEAD = (
    "c2sp.org/tlog-proof@v1\n"
    "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
    "index 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
    "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
    "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
)
TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_the_spec_cosignature_carries_its_timestamp_after_the_key_id() -> None:
    # The spec's signed message for that cosignature has "time 1679315147".
    note = parse(SPEC_CHECKPOINT)
    witness = note.signatures[1]
    assert witness.key_name == "witness.example.com/w1"
    assert int.from_bytes(witness.signature[:8], "big") == 1679315147
    assert len(witness.signature) == 8 + 64
    assert signed_message(TEXT, 1679315147).decode() == ("cosignature/v1\ntime 1679315147\n" + TEXT)


def test_a_cosignature_verifies_with_the_witness_key_and_no_other() -> None:
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = sign(TEXT, "example.com/behind-the-sofa", log_key)
    line = cosign(TEXT, "witness.example/w1", witness_key, 1700000000)
    cosigned = add_signature_lines(note, [line, line])
    assert cosigned.count("witness.example/w1") == 1
    w1 = Cosigner("witness.example/w1", witness_key.public_key())
    assert parse_vkey(w1.vkey()) == w1
    found = verified_cosignatures(cosigned, [w1])
    assert found["witness.example/w1"].timestamp == 1700000000
    # A witness we do not know is ignored; a known one whose cosignature fails is refused.
    other = Cosigner("witness.example/w2", Ed25519PrivateKey.generate().public_key())
    assert verified_cosignatures(cosigned, [other]) == {}
    forged = cosigned.replace("20852163", "20852164")
    with pytest.raises(NoteError, match="does not verify"):
        verified_cosignatures(forged, [w1])


def test_a_log_key_is_not_a_witness_key() -> None:
    key = Ed25519PrivateKey.generate()
    vkey = Cosigner("w", key.public_key()).vkey()
    as_log_key = vkey.split("+")[0] + "+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode()
    with pytest.raises(NoteError, match="type 0x04"):
        parse_vkey(as_log_key)
    with pytest.raises(NoteError, match="key id"):
        parse_vkey(vkey.replace(vkey.split("+")[1], "00000000"))


def test_the_spec_tlog_proof_parses_and_our_proofs_read_back() -> None:
    proof = parse_tlog_proof(SPEC_PROOF_HEAD + "\n" + SPEC_CHECKPOINT)
    assert proof.index == 73894
    assert len(proof.inclusion_proof) == 5
    assert proof.extra is not None
    assert proof.extra.startswith(b"age-v1.2.1-darwin-arm64.tar.gz")
    assert proof.checkpoint == SPEC_CHECKPOINT
    ours = TlogProof(3, (b"\x01" * 32,), SPEC_CHECKPOINT)
    assert ours.text().startswith("c2sp.org/tlog-proof@v1\nindex 3\nAQEB")
    assert parse_tlog_proof(ours.text()) == ours
    with pytest.raises(TlogProofError):
        parse_tlog_proof(ours.text().replace("index 3", "index 03"))


def test_a_policy_quorum_of_groups_as_in_the_spec() -> None:
    keys = {n: Cosigner(f"w/{n}", Ed25519PrivateKey.generate().public_key()) for n in "ABCDE"}
    text = "\n".join(
        [
            "# two organisations",
            *(f"witness {n} {c.vkey()} https://{n}.example/" for n, c in keys.items()),
            "group X 2 A B C",
            "group Y any D E",
            "group XY all X Y",
            "quorum XY",
        ]
    )
    policy = parse_policy(text)
    assert policy.satisfied_by(["w/A", "w/B", "w/E"])
    assert not policy.satisfied_by(["w/A", "w/D", "w/E"])  # X lacks a second member
    assert not policy.satisfied_by(["w/A", "w/B", "w/C"])  # Y lacks any
    assert parse_policy("quorum none").satisfied_by([])
    with pytest.raises(PolicyError, match="not defined above"):
        parse_policy("quorum X")
    with pytest.raises(PolicyError, match=r"1\.\.3"):
        parse_policy(text.replace("group X 2", "group X 4"))


def test_k_of_n_and_the_default_0_of_0() -> None:
    witnesses = [
        Witness(n, Cosigner(n, Ed25519PrivateKey.generate().public_key())) for n in ("a", "b")
    ]
    assert k_of_n([], 0).satisfied_by([])
    two = k_of_n(witnesses, 2)
    assert two.describe() == "2 of 2 witnesses (quorum)"
    assert not two.satisfied_by(["a"])
    assert two.satisfied_by(["a", "b"])
    with pytest.raises(PolicyError):
        k_of_n(witnesses, 3)
