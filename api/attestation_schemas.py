"""Response bodies of the attestation endpoints (checkpoints, proofs, keys, erasure)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas import RecordedOut


class CheckpointOut(BaseModel):
    note: str = Field(description="the C2SP signed note (tlog-checkpoint text and signature)")
    origin: str
    tree_size: int
    root_hash: str = Field(description="hex")
    time: str
    key_name: str
    key_id: str = Field(description="hex of the note signature's 4-byte key id")
    cosigned_by: list[str] = Field(
        default=[], description="witnesses whose cosignature (in the note) verifies"
    )
    final: bool = Field(
        default=True, description="whether the cosignatures meet the witness policy"
    )
    quorum: str = Field(default="no witness needed", description="the witness policy")
    latest_final_tree_size: int | None = Field(
        default=None, description="the tree size of the latest checkpoint that counts"
    )


class ConsistencyOut(BaseModel):
    from_: int = Field(alias="from")
    to: int
    proof: list[str] = Field(description="RFC 9162 consistency proof, hex hashes")
    from_root: str = Field(description="hex root of the tree of `from` leaves (informative)")
    to_root: str = Field(description="hex root of the tree of `to` leaves (informative)")


class PublicKeyOut(BaseModel):
    algorithm: str = "Ed25519"
    key_name: str
    key_id: str
    public_key_pem: str
    verifier_key: str = Field(description="<name>+<key id>+base64(0x01 || key), as note tools use")


class ErasureOut(RecordedOut):
    duplicate: bool = Field(description="true when the subject was already erased")
    read_models_updated: bool = Field(
        description="whether the read models dropped their clear copies before this answer"
    )
