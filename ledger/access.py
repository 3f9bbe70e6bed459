"""``ApiKey``: the stored life of one API key (issued, revoked).

This module stays at ``ledger/access.py`` because the stored events' class paths
(``ledger.access:ApiKey.Issued``) are a schema. The registry that issues and checks keys
is ``ledger/application/api_keys.py``; the roles are ``ledger/domain/roles.py``.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

KEY_NAMESPACE = UUID("0b8a2f7e-51c4-5d0a-8e61-93c7f2a4d1b6")


class ApiKey(Aggregate):
    @staticmethod
    def create_id(key_id: str) -> UUID:
        return uuid5(KEY_NAMESPACE, key_id)

    @event("Issued")
    def __init__(self, key_id: str, tenant: str, roles: list[str], secret_hash: str) -> None:
        self.key_id = key_id
        self.tenant = tenant
        self.roles = roles
        self.secret_hash = secret_hash
        self.revoked = False

    @event("Revoked")
    def revoke(self) -> None:
        self.revoked = True
