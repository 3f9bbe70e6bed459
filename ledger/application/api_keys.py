"""The API-key registry: issue, revoke and authenticate keys.

A key is ``cl_<key id>_<secret>``. Only SHA-256 of the secret is stored, in the
event-sourced ``ApiKey`` (``ledger/access.py``: issued, revoked), so every key's life is
on record. The key id is not secret: it names the key in evidence ("recorded by") and in
logs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from enum import Enum
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import PersistenceError

from ledger.access import ApiKey
from ledger.domain.errors import DatabaseAway
from ledger.domain.roles import Principal, Role
from ledger.domain.validation import check_tenant
from ledger.runtime.limit_metrics import CACHE_EVICTIONS

log = logging.getLogger(__name__)

KEY_PREFIX = "cl"
CACHE_SECONDS = 5.0
# A key is ``cl_`` + 16 hex + ``_`` + 43 characters; anything much longer is not a key
# and is refused without a lookup or a cache entry.
MAX_PRESENTED_KEY = 128
# Answers kept (also for unknown keys, so a flood of wrong keys does not reach the
# database): at most this many, each keyed by a 32-byte digest of what was presented,
# so no caller can grow the cache with what they send. The oldest go first.
CACHE_ENTRIES = 10_000


class _NotCached(Enum):
    NOT_CACHED = "not cached"


NOT_CACHED = _NotCached.NOT_CACHED


class AccessRegistry(Application[UUID]):
    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}
        self.cache_entries = CACHE_ENTRIES  # serve: CONSENT_LEDGER_KEY_CACHE_ENTRIES
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

    def is_active(self, key_id: str) -> bool:
        """Whether the key ``key_id`` exists and is not revoked (console sessions ask)."""
        try:
            key: ApiKey = self.repository.get(ApiKey.create_id(key_id))
        except AggregateNotFoundError:
            return False
        return not key.revoked

    def cached(self, presented: str) -> Principal | _NotCached | None:
        """The answer ``authenticate`` gave within ``CACHE_SECONDS``, without the database."""
        if len(presented) > MAX_PRESENTED_KEY:
            return None
        with self._lock:
            cached = self._cache.get(_cache_key(presented))
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
            evicted = 0
            while len(self._cache) >= self.cache_entries:
                del self._cache[next(iter(self._cache))]  # the oldest entry
                evicted += 1
            key = _cache_key(presented)
            self._cache.pop(key, None)  # re-inserted as the newest
            self._cache[key] = (now, principal)
        if evicted:
            CACHE_EVICTIONS.labels(cache="api_keys").inc(evicted)
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
        except PersistenceError as error:  # the database is away: 503, never a bare 500
            log.error("api key lookup failed", extra={"error": str(error)})
            raise DatabaseAway(
                "the ledger database is unavailable; the API key could not be checked"
            ) from error
        if key.revoked or not hmac.compare_digest(key.secret_hash, _digest(secret)):
            return None
        return Principal(
            key_id=key_id, tenant=key.tenant, roles=frozenset(Role(r) for r in key.roles)
        )


def _cache_key(presented: str) -> bytes:
    return hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
