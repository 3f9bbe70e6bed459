"""Subject identity: one person at one address on one channel for one tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID, uuid5

from ledger.domain.addresses import Channel, normalise_address, parse_channel

# Fixed forever: changing it would give every subject a new id.
SUBJECT_NAMESPACE = UUID("6f1d4a52-3c1e-5b8e-9a57-2f4c0d9b7e31")


@dataclass(frozen=True)
class SubjectRef:
    tenant: str
    channel: Channel
    address: str  # E.164
    # Computed once from the three above (a UUIDv5 is a SHA-1 hash).
    id: UUID = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", subject_id(self.tenant, self.channel, self.address))


def subject_id(tenant: str, channel: str, address: str) -> UUID:
    """UUIDv5 of the normalised triple, so a lookup needs no index."""
    return uuid5(SUBJECT_NAMESPACE, f"{tenant}\x1f{channel}\x1f{address}")


def resolve_subject(
    tenant: str, channel: str, address: str, *, field_prefix: str = ""
) -> SubjectRef:
    """Validate and normalise a (tenant, channel, address) triple."""
    parsed = parse_channel(channel, field=f"{field_prefix}channel")
    normal = normalise_address(parsed, address, field=f"{field_prefix}address")
    return SubjectRef(tenant=tenant, channel=parsed, address=normal)
