"""Campaign receipts (issue 17): the cost of a large send's receipt and of its proofs.

In this process, against a SQLite ledger in a temporary directory (no server, no
network):

* recording a receipt of ``size`` subjects (sorting, the tree, the list's rows, the event);
* a cold proof: a fresh reader answers one subject's non-inclusion, so it reads the list
  back and rebuilds the tree;
* a warm proof: the same reader answers another subject, with the tree kept.

Run alone: ``python -m bench.receipts [--size N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from bench.report import Result, table
from bench.stats import summarize
from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.campaigns.receipts import CampaignReceipts
from ledger.domain.campaign_receipts import draft_receipt
from ledger.runtime.storage_settings import StorageSettings

SIZE = 100_000


def run(size: int = SIZE, runs: int = 3) -> list[Result]:
    recorded, cold, warm = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="consent-ledger-receipts-") as folder:
            storage = StorageSettings(database_url=None, sqlite_path=Path(folder) / "l.db")
            ledger = ConsentLedger(storage.eventsourcing_env())
            try:
                ids = [str(uuid.uuid4()) for _ in range(size)]
                draft = draft_receipt("acme", "bench", "whatsapp", "marketing", 0, subject_ids=ids)
                started = time.perf_counter()
                receipt = CampaignReceipts(ledger).record(draft, recorded_by=None)
                recorded.append(time.perf_counter() - started)
                reader = CampaignReceipts(ledger)
                started = time.perf_counter()
                reader.tree(receipt).non_membership(uuid.uuid4())
                cold.append(time.perf_counter() - started)
                started = time.perf_counter()
                reader.tree(receipt).non_membership(uuid.uuid4())
                warm.append((time.perf_counter() - started) * 1000)
            finally:
                ledger.close()
    note = "SQLite, in process; the cold proof reads the list back and rebuilds the tree"
    return [
        Result(f"receipt of {size:,} subjects: record", "s", summarize(recorded), note=note),
        Result(f"receipt of {size:,} subjects: cold proof", "s", summarize(cold)),
        Result(f"receipt of {size:,} subjects: warm proof", "ms", summarize(warm)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receipts", description=__doc__)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(table(run(args.size, args.runs)))


if __name__ == "__main__":
    main()
