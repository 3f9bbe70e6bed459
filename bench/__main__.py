"""``make bench`` / ``make bench-quick``: every benchmark in one run, one table, one file.

Groups (``--only``): ``writes`` (scenarios 1-4, side by side), ``lag`` (5), ``reads``
(6, on the large ledger), ``targeting`` (issue 6, on the same large ledger) and
``receipts`` (issue 17: a large send's campaign receipt and its proofs, in process).

Issue 6 asks for a large ledger of 1,000,000 subjects and imports of 100,000 rows. At
today's write, rebuild and import rates on a 2-core machine these alone take longer than
the 15 minutes ``make bench`` may take (README.md, Benchmarks, has the figures), so the
defaults are ``FULL_SUBJECTS`` and ``FULL_IMPORT_ROWS``, and the table says so;
``--subjects 1000000 --import-rows 100000`` runs the sizes the issue asks.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench import lag, large, receipts, writes
from bench.infra import Bench
from bench.report import Result, machine, markdown, table, write

GROUPS = ("writes", "lag", "reads", "targeting", "receipts")
FULL_SUBJECTS = 100_000
FULL_IMPORT_ROWS = 20_000
QUICK_SUBJECTS = 10_000
log = logging.getLogger("bench")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every scenario, briefly")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="run only these groups")
    parser.add_argument("--output", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--subjects", type=int, help="subjects in the large ledger")
    parser.add_argument("--import-rows", type=int, help="rows per import run")
    parser.add_argument("--markdown", action="store_true", help="also print the Markdown table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    groups = set(args.only or GROUPS)
    quick = args.quick
    subjects = args.subjects or (QUICK_SUBJECTS if quick else FULL_SUBJECTS)
    started = time.perf_counter()
    results: list[Result] = []
    bench = Bench.start(Path(tempfile.mkdtemp(prefix="consent-ledger-bench-")))
    try:
        if "writes" in groups:
            results += writes.run(
                bench,
                writes.WriteSettings(
                    rounds=3,
                    raw_seconds=0.5 if quick else 2.0,
                    ledger_seconds=1.0 if quick else 4.0,
                    contacts=20_000 if quick else 100_000,
                ),
            )
        if "lag" in groups:
            results += lag.run(bench, runs=3, seconds=0.5 if quick else 5.0)
        if groups & {"reads", "targeting"}:
            results += large.run(
                bench,
                large.LargeSettings(
                    subjects=subjects,
                    # The rebuild is a scenario of "reads"; targeting alone needs one to
                    # build the read model.
                    rebuild_runs=3 if "reads" in groups else 1,
                    runs=3,
                    status_seconds=1.0 if quick else 4.0,
                    attestation_requests=10 if quick else 100,
                    eligibility_addresses=5_000 if quick else 100_000,
                    import_rows=args.import_rows or (1_000 if quick else FULL_IMPORT_ROWS),
                    do_reads="reads" in groups,
                    do_targeting="targeting" in groups,
                ),
            )
        if "receipts" in groups:
            results += receipts.run(10_000 if quick else receipts.SIZE, runs=1 if quick else 3)
        info = machine(bench.server)
    finally:
        bench.close()
    elapsed = time.perf_counter() - started
    info.update(
        mode="quick" if quick else "full",
        groups=sorted(groups),
        ledger_subjects=subjects,
        wall_seconds=round(elapsed),
        note="clients, server, PostgreSQL and the broker share this machine's cores",
    )
    write(args.output, results, info)
    print(table(results))
    print()
    for result in results:
        if result.note:
            print(f"- {result.name}: {result.note}")
    if args.markdown:
        print()
        print(markdown(results))
    cores = info["cores"]
    pg = info["postgresql"]["server_version"]
    print(
        f"\n{len(results)} figures in {elapsed:.0f}s on {cores} cores, PostgreSQL {pg}; "
        f"written to {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
