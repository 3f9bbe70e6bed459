"""Who may do what: the roles an API key carries, and the principal a key stands for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.domain.errors import InvalidInput


class Role(StrEnum):
    INGEST = "ingest"
    CAMPAIGN = "campaign"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant: str
    roles: frozenset[Role]


def parse_roles(text: str) -> list[Role]:
    roles: list[Role] = []
    for name in (part.strip().lower() for part in text.split(",")):
        if not name:
            continue
        try:
            roles.append(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidInput(f"unknown role {name!r}; known: {known}", field="roles") from None
    if not roles:
        raise InvalidInput("at least one role is required", field="roles")
    return roles
