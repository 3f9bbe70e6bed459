"""``ContactIndex``: a tenant's contact ids as keys of its index, and a contact's subjects.

Each tenant gets a random 256-bit contact secret the first time it names a contact,
sealed like the gateway secrets (``CONSENT_LEDGER_SECRETS_KEY``; in clear, with the
startup warning, when that is unset) and cached here. The index key of a contact id is
HMAC-SHA256 under that secret (``ledger/crypto/contact_keys.py``).
"""

from __future__ import annotations

import base64
import threading

from eventsourcing.persistence import PersistenceError

from ledger.crypto.contact_keys import contact_key, new_contact_secret
from ledger.crypto.secret_box import SecretBox
from ledger.domain.contacts import ContactLink
from ledger.domain.errors import DatabaseAway
from ledger.persistence.contacts import ContactTables

SECRET_FIELD = "contact_secret"  # noqa: S105 - a field name, not a secret


def _context(tenant: str) -> bytes:
    return b"consent-ledger contact secret\x1f" + tenant.encode("utf-8")


class ContactIndex:
    def __init__(self, tables: ContactTables, box: SecretBox) -> None:
        self.tables = tables
        self.box = box
        self._secrets: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def cached(self, tenant: str) -> bool:
        return tenant in self._secrets

    def warm(self, tenant: str) -> None:
        """Read (or make) the tenant's secret now, so later keys need no I/O."""
        self._secret(tenant)

    def key(self, tenant: str, contact_id: str) -> str:
        """The index key of a (checked) contact id of ``tenant``."""
        return contact_key(self._secret(tenant), contact_id)

    def subjects(self, tenant: str, contact_id: str) -> list[ContactLink]:
        try:
            return self.tables.links(tenant, self.key(tenant, contact_id))
        except PersistenceError as exc:
            raise DatabaseAway("the ledger database is unavailable; retry") from exc

    def _secret(self, tenant: str) -> bytes:
        secret = self._secrets.get(tenant)
        if secret is not None:
            return secret
        with self._lock:
            try:
                secret = self._read(tenant)
                if secret is None:
                    fresh = base64.b64encode(new_contact_secret()).decode("ascii")
                    scheme, blob = self.box.encrypt({SECRET_FIELD: fresh}, _context(tenant))
                    self.tables.add_sealed_secret(tenant, scheme, blob)
                    secret = self._read(tenant)  # another process may have won the race
            except PersistenceError as exc:
                raise DatabaseAway("the ledger database is unavailable; retry") from exc
            if secret is None:  # pragma: no cover - the insert above or a rival's is there
                raise RuntimeError(f"no contact secret stored for tenant {tenant!r}")
            self._secrets[tenant] = secret
            return secret

    def _read(self, tenant: str) -> bytes | None:
        sealed = self.tables.sealed_secret(tenant)
        if sealed is None:
            return None
        opened = self.box.decrypt(sealed[0], sealed[1], _context(tenant))
        return base64.b64decode(opened[SECRET_FIELD])
