"""API keys: who may do what for which tenant.

A key is ``cl_<key id>_<secret>``. Only SHA-256 of the secret is stored, in an
event-sourced ``ApiKey`` (issued, revoked), so every key's life is on record. The key
id is not secret: it names the key in evidence ("recorded by") and in logs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from enum import Enum, StrEnum
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.errors import InvalidInput
from ledger.persistence.postgres_ddl import SerialisedDDL
from ledger.validation import check_tenant

KEY_NAMESPACE = UUID("0b8a2f7e-51c4-5d0a-8e61-93c7f2a4d1b6")
KEY_PREFIX = "cl"
CACHE_SECONDS = 5.0


class _NotCached(Enum):
    NOT_CACHED = "not cached"


NOT_CACHED = _NotCached.NOT_CACHED


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


class AccessSQLiteRecorder(SQLiteApplicationRecorder):
    """Keeps the keys' events in their own table of the SQLite file."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "access_events"):
        super().__init__(datastore, events_table_name)


class AccessPostgresRecorder(SerialisedDDL, PostgresApplicationRecorder):
    """The library's recorder, with its schema creation serialised across processes."""


class AccessRegistry(Application[UUID]):
    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def issue(self, tenant: str, roles: list[Role]) -> str:
        """Create a key; the returned string is the only place the secret ever appears."""
        check_tenant(tenant)
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        key = ApiKey(key_id, tenant, sorted(r.value for r in roles), _digest(secret))
        self.save(key)
        return f"{KEY_PREFIX}_{key_id}_{secret}"

    def revoke(self, key_id: str) -> None:
        key: ApiKey = self.repository.get(ApiKey.create_id(key_id))
        key.revoke()
        self.save(key)
        with self._lock:
            self._cache.clear()

    def cached(self, presented: str) -> Principal | _NotCached | None:
        """The answer ``authenticate`` gave within ``CACHE_SECONDS``, without the database."""
        with self._lock:
            cached = self._cache.get(presented)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        return NOT_CACHED

    def authenticate(self, presented: str) -> Principal | None:
        hit = self.cached(presented)
        if not isinstance(hit, _NotCached):
            return hit
        now = time.monotonic()
        principal = self._lookup(presented)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[presented] = (now, principal)
        return principal

    def _lookup(self, presented: str) -> Principal | None:
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != KEY_PREFIX or not key_id or not secret:
            return None
        try:
            key: ApiKey = self.repository.get(ApiKey.create_id(key_id))
        except AggregateNotFoundError:
            return None
        if key.revoked or not hmac.compare_digest(key.secret_hash, _digest(secret)):
            return None
        return Principal(
            key_id=key_id, tenant=key.tenant, roles=frozenset(Role(r) for r in key.roles)
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
