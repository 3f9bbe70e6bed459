"""Campaign receipts in the ledger, on both backends: chained per tenant, sealed into the
Merkle log like every event, and their lists read back to the root they recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from uuid import UUID

import pytest
from prometheus_client import REGISTRY

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.campaigns.receipts import CampaignReceipts, ReceiptListAltered
from ledger.attestation.leaves import entry_leaf_hash, event_object
from ledger.attestation.proofs import inclusion_proof, verify_inclusion
from ledger.domain.campaign_receipts import draft_receipt
from ledger.events import campaign_receipts_id
from tests.conftest import sqlite_settings
from tests.support.attestation import new_sealer

IDS = [str(UUID(int=n)) for n in (1, 2, 3)]
ALTERED = "consent_ledger_campaign_receipt_lists_altered_total"


def test_receipts_are_chained_per_tenant_and_sealed_into_the_merkle_log(
    ledger: ConsentLedger,
) -> None:
    receipts = CampaignReceipts(ledger)
    ids = [str(UUID(int=n)) for n in (3, 1, 2, 3)]
    first = receipts.record(
        draft_receipt("acme", "c-1", "whatsapp", "marketing", 0, subject_ids=ids),
        recorded_by="key-1",
    )
    second = receipts.record(
        draft_receipt("acme", "c-2", "sms", "marketing", 1, addresses=["+14155550100"]),
        recorded_by=None,
    )
    other = receipts.record(
        draft_receipt("globex", "c-1", "whatsapp", "marketing", 0, subject_ids=ids[:1]),
        recorded_by=None,
    )
    # Then each tenant has its own chain; the list was deduplicated and sorted
    assert (first.event.originator_version, second.event.originator_version) == (1, 2)
    assert second.event.prev_hash == first.event.hash
    assert other.event.originator_version == 1
    assert first.event.count == 3
    assert receipts.lists.members(first.id) == [UUID(int=1), UUID(int=2), UUID(int=3)]
    assert [r.id for r in receipts.receipts("acme")] == [first.id, second.id]
    # ... a fresh reader rebuilds the same tree from the stored list
    assert CampaignReceipts(ledger).tree(first).root.hex() == first.event.root
    # When the log is sealed
    sealer = new_sealer(ledger)
    result = sealer.checkpoint_once()
    # Then each receipt is a leaf of the log, provable against the signed checkpoint
    [leaf1, leaf2] = sealer.store.leaves_of(campaign_receipts_id("acme"))
    assert (leaf1.notification_id, leaf2.notification_id) == (first.position, second.position)
    assert leaf1.leaf_hash == entry_leaf_hash(event_object(first.event), fixed_keys=True)
    nodes = sealer.store.nodes
    proof = inclusion_proof(
        leaf1.leaf_index,
        result.tree_size,
        lambda key: nodes([key])[key],
    )
    checkpoint = sealer.store.latest_checkpoint()
    assert checkpoint is not None
    assert verify_inclusion(
        leaf1.leaf_hash, leaf1.leaf_index, result.tree_size, proof, checkpoint.root_hash
    )


@pytest.mark.parametrize(("index", "swapped"), [(0, 99), (2, 4)], ids=["unsorted", "sorted"])
def test_a_list_altered_behind_the_ledgers_back_is_refused_and_counted(
    tmp_path: Path, index: int, swapped: int
) -> None:
    storage = sqlite_settings(tmp_path / "ledger.db")
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        receipt = CampaignReceipts(ledger).record(
            draft_receipt("acme", "c-1", "whatsapp", "marketing", 0, subject_ids=IDS),
            recorded_by=None,
        )
        # Given someone who drops the trigger and swaps a subject of the stored list
        table = "stored_events_campaign_receipt_lists"
        with sqlite3.connect(storage.sqlite_path) as conn:
            conn.execute(f"DROP TRIGGER {table}_no_update")
            conn.execute(
                f"UPDATE {table} SET subject_id = ? WHERE idx = ?",  # noqa: S608
                (str(UUID(int=swapped)), index),
            )
        before = REGISTRY.get_sample_value(ALTERED) or 0.0
        # When a fresh reader rebuilds its tree: it refuses, and the refusal is counted
        with pytest.raises(ReceiptListAltered):
            CampaignReceipts(ledger).tree(receipt)
        assert REGISTRY.get_sample_value(ALTERED) == before + 1
    finally:
        ledger.close()
