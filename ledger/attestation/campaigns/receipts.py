"""``CampaignReceipts``: record a campaign's final list, and prove who was (not) in it.

Recording: the list is sorted and deduplicated; the same receipt sent again (same
campaign, channel, purpose, position and list: a retry) is answered with the one already
recorded. Otherwise its subject ids are stored beside the
events table (``persistence/campaign_receipt_lists.py``), and one
``CampaignReceiptRecorded`` is appended to the tenant's chain of receipts with the
Merkle root and count (``sorted_ids.py`` says how the tree and its proofs are made). The
event lives in the ledger's log like every event, so the checkpointer seals it into the
Merkle log.

Answering: the receipts of a tenant are its chain; a subject's receipts are found by the
lists' index; each proof is made from the receipt's tree, rebuilt from its list and kept
in a small cache (a receipt never changes).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from uuid import UUID, uuid4

from ledger.application.ports import LedgerAppender
from ledger.application.retry import DEFAULT_RETRY, RetryPolicy
from ledger.attestation.campaigns.sorted_ids import SortedIdTree, sorted_ids
from ledger.crypto.chain import ChainHead
from ledger.crypto.chain import link as link_event
from ledger.domain.campaign_receipts import ReceiptDraft
from ledger.events import GENESIS_HASH, CampaignReceiptRecorded, campaign_receipts_id
from ledger.persistence.campaign_receipt_lists import receipt_list_table
from ledger.runtime.metrics import CAMPAIGN_RECEIPT_LISTS_ALTERED, EVENTS_RECORDED

log = logging.getLogger(__name__)

# Trees kept in memory, by receipt: at most this many ids in all.
TREE_CACHE_IDS = 2_000_000


@dataclass(frozen=True)
class StoredReceipt:
    event: CampaignReceiptRecorded
    position: int
    duplicate: bool = False  # ``record`` found the same receipt already recorded

    @property
    def id(self) -> UUID:
        return self.event.event_id


class CampaignReceipts:
    def __init__(self, core: LedgerAppender, retry: RetryPolicy = DEFAULT_RETRY) -> None:
        self.core = core
        self.retry = retry
        self.lists = receipt_list_table(core.store)
        self._trees: OrderedDict[UUID, SortedIdTree] = OrderedDict()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- commands
    def record(self, draft: ReceiptDraft, *, recorded_by: str | None) -> StoredReceipt:
        """Store the list, then append the receipt event to the tenant's chain."""
        tree = SortedIdTree(sorted_ids(draft.subject_ids))
        same = self._same(draft, tree)
        if same is not None:  # a retry of a receipt already recorded
            return replace(same, duplicate=True)
        receipt_id = uuid4()
        self.retry.run(
            lambda: self.lists.insert(draft.tenant, receipt_id, tree.ids),
            outcome="no receipt was recorded",
        )
        chain = campaign_receipts_id(draft.tenant)

        def append() -> StoredReceipt:
            stored = self.core.store.select_positioned(chain)
            last = self.core.ledger_event(stored[-1].stored) if stored else None
            head = ChainHead(
                chain,
                last.originator_version if last else 0,
                last.hash if last else GENESIS_HASH,
                draft.tenant,
                draft.channel,
            )
            event = link_event(
                CampaignReceiptRecorded,
                head,
                recorded_at=self.core.clock(),
                event_id=receipt_id,
                campaign_id=draft.campaign_id,
                purpose=draft.purpose,
                as_of_position=draft.as_of_position,
                count=tree.size,
                root=tree.root.hex(),
                recorded_by=recorded_by,
            )
            [position] = self.core.append(event)
            return StoredReceipt(event, position)

        receipt = self.retry.run(append, outcome="no receipt was recorded")
        EVENTS_RECORDED.labels(type=receipt.event.type_name).inc()
        self._keep(receipt.id, tree)
        log.info(
            "campaign receipt recorded",
            extra={
                "tenant": draft.tenant,
                "campaign_id": draft.campaign_id,
                "count": tree.size,
                "position": receipt.position,
            },
        )
        return receipt

    def _same(self, draft: ReceiptDraft, tree: SortedIdTree) -> StoredReceipt | None:
        """The tenant's receipt with the same campaign, channel, purpose, position and list."""
        root = tree.root.hex()
        for receipt in self.receipts(draft.tenant):
            event = receipt.event
            if (
                event.root == root
                and event.count == tree.size
                and event.campaign_id == draft.campaign_id
                and event.channel == draft.channel
                and event.purpose == draft.purpose
                and event.as_of_position == draft.as_of_position
            ):
                return receipt
        return None

    # ------------------------------------------------------------------ queries
    def receipts(self, tenant: str, *, after_position: int = 0) -> Iterator[StoredReceipt]:
        """The tenant's receipts in ledger order, after a position."""
        for item in self.core.store.select_positioned(campaign_receipts_id(tenant)):
            if item.position <= after_position:
                continue
            event = self.core.ledger_event(item.stored)
            if isinstance(event, CampaignReceiptRecorded):
                yield StoredReceipt(event, item.position)

    def find(self, tenant: str, receipt_id: UUID) -> StoredReceipt | None:
        """The tenant's receipt with this id (None: none of this tenant's)."""
        return next((r for r in self.receipts(tenant) if r.id == receipt_id), None)

    def including(self, tenant: str, subject_id: UUID) -> dict[UUID, int]:
        """Receipt id -> the subject's index, for every list that holds the subject."""
        return self.lists.including(tenant, subject_id)

    def tree(self, receipt: StoredReceipt) -> SortedIdTree:
        with self._lock:
            found = self._trees.get(receipt.id)
            if found is not None:
                self._trees.move_to_end(receipt.id)
                return found
        try:
            tree: SortedIdTree | None = SortedIdTree(self.lists.members(receipt.id))
        except ValueError:  # no longer sorted and distinct
            tree = None
        if (
            tree is None
            or tree.root.hex() != receipt.event.root
            or tree.size != receipt.event.count
        ):
            CAMPAIGN_RECEIPT_LISTS_ALTERED.inc()
            log.error(
                "campaign receipt list altered",
                extra={"receipt_id": str(receipt.id), "tenant": receipt.event.tenant},
            )
            raise ReceiptListAltered(receipt.id)
        self._keep(receipt.id, tree)
        return tree

    def _keep(self, receipt_id: UUID, tree: SortedIdTree) -> None:
        with self._lock:
            self._trees[receipt_id] = tree
            while sum(t.size for t in self._trees.values()) > TREE_CACHE_IDS and self._trees:
                self._trees.popitem(last=False)


class ReceiptListAltered(RuntimeError):
    """The stored list of a receipt no longer gives the root its event recorded."""

    def __init__(self, receipt_id: UUID) -> None:
        super().__init__(
            f"the stored list of campaign receipt {receipt_id} no longer matches its root"
        )
        self.receipt_id = receipt_id
