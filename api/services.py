"""What the API process holds while it runs: built in the lifespan, closed at shutdown."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from api.serve_settings import ServeSettings
from ledger.application.api_keys import AccessRegistry
from ledger.application.consent_ledger import ConsentLedger
from ledger.application.webhooks.settings import WebhookSettings
from ledger.application.webhooks.subscriptions import WebhookSubscriptions
from ledger.attestation.bundle import ProofCache
from ledger.attestation.campaigns.receipts import CampaignReceipts
from ledger.attestation.checkpoint_loop import CheckpointLoop
from ledger.attestation.checkpoint_settings import CheckpointSettings
from ledger.attestation.embedded_checkpoints import start_checkpoints
from ledger.attestation.storage import open_cosignature_store, open_merkle_store
from ledger.attestation.witness_settings import WitnessSettings
from ledger.attestation.witnessed import WitnessedCheckpoints
from ledger.crypto.secret_box import SecretBox, SecretsSettings
from ledger.domain.addresses import bound_address_cache
from ledger.domain.errors import InvalidInput, NotCaughtUp
from ledger.persistence.merkle_store import MerkleStore
from ledger.publishing.webhooks.in_process import SenderThread, start_in_serve
from ledger.runtime.compliance_settings import ComplianceSettings
from ledger.runtime.leadership import Leadership
from ledger.runtime.limit_metrics import LIMIT_REFUSALS
from ledger.runtime.storage_settings import StorageSettings, access_env
from projections.consent_status.projection import ConsentStatusProjection
from projections.consent_status.view import ConsentStatusView
from projections.embedded import EmbeddedProjections
from projections.views import open_typed


@dataclass
class Services:
    settings: ServeSettings
    ledger: ConsentLedger
    access: AccessRegistry
    consent_status: ConsentStatusView
    embedded: EmbeddedProjections | None
    # The in-process sealer (the embedded default), if this process seals.
    checkpoints: CheckpointLoop | None = field(default=None)
    # The in-process webhook sender (the embedded default), if this process delivers.
    webhook_sender: SenderThread | None = field(default=None)
    # Reads waiting for ``?after=`` at once (``CONSENT_LEDGER_READ_WAITERS``).
    waiters: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.waiters = threading.BoundedSemaphore(self.settings.read_waiters)
        self.access.cache_entries = self.settings.key_cache_entries
        bound_address_cache(self.settings.address_cache_entries)

    @classmethod
    def start(cls, settings: ServeSettings, storage: StorageSettings) -> Services:
        services = cls._start(settings, storage)
        try:
            _ = services.compliance  # a policy that does not parse stops serve at start
            _ = services.witnessed  # a malformed witness setting stops serve at start
            services.checkpoints = start_checkpoints(
                services.ledger, storage, CheckpointSettings(), settings.seal_every_seconds
            )
            services.webhook_sender = start_in_serve(services.ledger, storage)
        except BaseException:
            services.close()
            raise
        return services

    @classmethod
    def _start(cls, settings: ServeSettings, storage: StorageSettings) -> Services:
        ledger = ConsentLedger(storage.eventsourcing_env())
        access = AccessRegistry(access_env(storage))
        if settings.kafka_bootstrap_servers:
            # The full pipeline: the consumers (``consent-ledger consume``) keep the read
            # models; this process only reads them.
            if not storage.uses_postgres:
                raise RuntimeError(
                    "KAFKA_BOOTSTRAP_SERVERS is set but DATABASE_URL is not: the Kafka "
                    "pipeline keeps its read models in PostgreSQL; set DATABASE_URL or unset "
                    "KAFKA_BOOTSTRAP_SERVERS for the embedded default"
                )
            view = open_typed("consent_status", ledger, ConsentStatusProjection)
            return cls(settings, ledger, access, view, None)
        # Several serve workers on PostgreSQL: one runs the in-process projections.
        leadership = (
            Leadership(
                storage.database_url.get_secret_value(),
                "projections",
                role="embedded projections",
            )
            if storage.database_url is not None
            else None
        )
        embedded = EmbeddedProjections(ledger=ledger, leadership=leadership)
        return cls(settings, ledger, access, embedded.consent_status, embedded)

    def wait_for(self, after: int | None) -> None:
        """Return once the read model has applied ledger position ``after`` (``?after=``);
        ``NotCaughtUp`` if it has not within ``read_wait_seconds``."""
        if after is None or self.consent_status.applied_position() >= after:
            return
        # A position the ledger has not recorded will not be applied within the wait:
        # refuse it at once rather than hold a thread for the whole wait.
        if after > (self.ledger.recorder.max_notification_id() or 0):
            LIMIT_REFUSALS.labels(limit="after_beyond_head").inc()
            raise InvalidInput(
                f"ledger position {after} has not been recorded; pass a position an "
                "answer of this ledger carried",
                field="after",
                code="unknown_position",
            )
        if not self.waiters.acquire(blocking=False):
            LIMIT_REFUSALS.labels(limit="read_waiters").inc()
            raise NotCaughtUp(
                "too many reads are waiting for the read model; retry shortly", field="after"
            )
        try:
            caught_up = self.consent_status.wait_for(after, self.settings.read_wait_seconds)
        finally:
            self.waiters.release()
        if not caught_up:
            raise NotCaughtUp(
                f"the read model has not applied ledger position {after} yet; retry shortly",
                field="after",
            )

    @cached_property
    def proofs(self) -> ProofCache:
        """Inclusion proofs of recent bundles, by subject and checkpoint size."""
        return ProofCache()

    @cached_property
    def campaign_receipts(self) -> CampaignReceipts:
        """Campaign receipts: recording them, and their lists' proofs (trees cached)."""
        return CampaignReceipts(self.ledger, self.ledger.retry)

    @cached_property
    def compliance(self) -> ComplianceSettings:
        """Tenants' revocation limits and retention per jurisdiction (environment)."""
        return ComplianceSettings()

    @cached_property
    def merkle(self) -> MerkleStore:
        """The attestation log (leaves, nodes, signed checkpoints) in the ledger's database."""
        return open_merkle_store(self.ledger)

    @cached_property
    def webhooks(self) -> WebhookSubscriptions:
        """The tenants' webhook subscriptions and their deliveries."""
        settings = WebhookSettings()
        return WebhookSubscriptions(
            self.ledger,
            SecretBox.from_settings(SecretsSettings()),
            settings.policy,
            secret_overlap=timedelta(seconds=settings.secret_overlap_seconds),
        )

    @cached_property
    def witnessed(self) -> WitnessedCheckpoints:
        """Checkpoints with their witnesses' cosignatures, and the policy that says which
        count (``CONSENT_LEDGER_WITNESSES``, default: every checkpoint counts)."""
        return WitnessedCheckpoints(open_cosignature_store(self.ledger), WitnessSettings().policy())

    def close(self) -> None:
        if self.webhook_sender is not None:
            self.webhook_sender.close()
        if self.checkpoints is not None:
            self.checkpoints.close()
        if self.embedded is not None:
            self.embedded.close()
        self.ledger.close()
        self.access.close()
