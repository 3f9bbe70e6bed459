"""Campaign targeting (issue 6), on the large ledger: rows per second and peak memory.

* ``POST /v1/eligibility`` with ``addresses`` addresses (80% subjects of the dataset,
  15% unknown numbers, 5% invalid ones), the NDJSON answer read to its end;
* the full audience of whatsapp/marketing as NDJSON and as CSV, and the whatsapp
  suppression list, streamed to the end;
* an import of ``rows`` new opt-ins, through ``consent-ledger import`` (a process of its
  own: its rows/s include its start-up) and through ``POST /v1/imports``.

Memory is the resident set of the process doing the work (``serve``, or the import
command with its recording processes: one per core on PostgreSQL), sampled every 50 ms
while it works; the serve process's idle resident set
before each run is reported beside its peak.
"""

from __future__ import annotations

import csv
import json
import logging
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import dataset
from bench.infra import Bench, RssSampler, rss_mb
from bench.report import Result
from bench.stats import summarize
from bench.workload import IMPORT_API_AREA, IMPORT_CLI_AREA, UNKNOWN_AREA, address
from tests.support.processes import CLI

log = logging.getLogger("bench")

ISSUE_IMPORT_ROWS = 100_000


@dataclass
class Measured:
    rows: int
    seconds: float
    peak_mb: float
    idle_mb: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def eligibility_addresses(subjects: int, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for n in range(count):
        slot = n % 20
        if slot == 0:
            out.append(f"+1415{n % 1000:03d}")  # too short: invalid_address
        elif slot in (1, 2, 3):
            out.append(address(UNKNOWN_AREA, rng.randrange(10**7)))
        else:
            out.append(dataset.address(rng.randrange(subjects)))
    return out


def stream(http: httpx.Client, method: str, path: str, pid: int, **kwargs: object) -> Measured:
    """Send the request and read the answer to its end, counting lines."""
    idle = rss_mb(pid)
    lines = 0
    with RssSampler(pid) as sampler:
        began = time.perf_counter()
        with http.stream(method, path, **kwargs) as response:  # type: ignore[arg-type]
            if response.status_code != 200:
                response.read()
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
            csv_header = response.headers.get("content-type", "").startswith("text/csv")
            for _ in response.iter_lines():
                lines += 1
        seconds = time.perf_counter() - began
    rows = lines - 1 if csv_header else lines
    return Measured(rows, seconds, sampler.peak_mb, idle)


def eligibility(http: httpx.Client, pid: int, addresses: list[str]) -> Measured:
    body = {"channel": "whatsapp", "purpose": "marketing", "addresses": addresses}
    measured = stream(http, "POST", "/v1/eligibility", pid, json=body)
    if measured.rows != len(addresses):
        raise RuntimeError(f"eligibility answered {measured.rows} of {len(addresses)} rows")
    return measured


def import_csv(path: Path, area: str, first: int, rows: int) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["channel", "address", "type", "occurred_at", "purposes", "method"])
        for n in range(first, first + rows):
            writer.writerow(
                [
                    "whatsapp",
                    address(area, n),
                    "opted_in",
                    "2025-06-01T12:00:00Z",
                    "marketing",
                    "paper_form",
                ]
            )


def import_cli(bench: Bench, env: dict[str, str], path: Path, rows: int) -> Measured:
    began = time.perf_counter()
    process = subprocess.Popen(
        [CLI, "import", str(path), "--tenant", dataset.TENANT],
        env=env,
        cwd=bench.workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with RssSampler(process.pid, tree=True) as sampler:
        out, err = process.communicate(timeout=1800)
    seconds = time.perf_counter() - began
    if process.returncode != 0:
        raise RuntimeError(f"import failed ({process.returncode}): {err.decode()[-1000:]}")
    report = json.loads(out)
    if report["accepted"] != rows:
        raise RuntimeError(f"import accepted {report['accepted']} of {rows}: {report}")
    return Measured(rows, seconds, sampler.peak_mb, 0.0)


def import_api(http: httpx.Client, pid: int, path: Path, rows: int) -> Measured:
    body = path.read_bytes()
    idle = rss_mb(pid)
    with RssSampler(pid) as sampler:
        began = time.perf_counter()
        response = http.post("/v1/imports", content=body, headers={"content-type": "text/csv"})
        seconds = time.perf_counter() - began
    if response.status_code != 200 or response.json()["accepted"] != rows:
        raise RuntimeError(f"POST /v1/imports: {response.status_code} {response.text[:300]}")
    return Measured(rows, seconds, sampler.peak_mb, idle)


@dataclass
class TargetingRuns:
    eligibility: list[Measured]
    audience_ndjson: list[Measured]
    audience_csv: list[Measured]
    suppressions: list[Measured]
    import_cli: list[Measured]
    import_api: list[Measured]


def run(
    bench: Bench,
    env: dict[str, str],
    http: httpx.Client,
    pid: int,
    *,
    subjects: int,
    addresses: int,
    import_rows: int,
    runs: int,
) -> TargetingRuns:
    out = TargetingRuns([], [], [], [], [], [])
    for n in range(runs):
        out.eligibility.append(
            eligibility(http, pid, eligibility_addresses(subjects, addresses, n))
        )
        out.audience_ndjson.append(stream(http, "GET", "/v1/audiences/whatsapp/marketing", pid))
        out.audience_csv.append(
            stream(http, "GET", "/v1/audiences/whatsapp/marketing?format=csv", pid)
        )
        out.suppressions.append(stream(http, "GET", "/v1/suppressions/whatsapp", pid))
        path = bench.workdir / f"import-cli-{n}.csv"
        import_csv(path, IMPORT_CLI_AREA, n * import_rows, import_rows)
        out.import_cli.append(import_cli(bench, env, path, import_rows))
        path = bench.workdir / f"import-api-{n}.csv"
        import_csv(path, IMPORT_API_AREA, n * import_rows, import_rows)
        out.import_api.append(import_api(http, pid, path, import_rows))
        log.info(
            "targeting run %d: eligibility %.0f rows/s, audience %.0f rows/s (%d rows), "
            "import cli %.0f rows/s, api %.0f rows/s",
            n + 1,
            out.eligibility[-1].rate,
            out.audience_ndjson[-1].rate,
            out.audience_ndjson[-1].rows,
            out.import_cli[-1].rate,
            out.import_api[-1].rate,
        )
    return out


def results(runs: TargetingRuns) -> list[Result]:
    out: list[Result] = []
    addresses = runs.eligibility[0].rows
    imported = runs.import_cli[0].rows
    for label, measured, who in (
        (f"eligibility of {addresses:,} addresses", runs.eligibility, "serve"),
        ("audience export NDJSON", runs.audience_ndjson, "serve"),
        ("audience export CSV", runs.audience_csv, "serve"),
        ("suppression export", runs.suppressions, "serve"),
        (f"import of {imported:,} rows, consent-ledger import", runs.import_cli, "import"),
        (f"import of {imported:,} rows, POST /v1/imports", runs.import_api, "serve"),
    ):
        rows = measured[0].rows
        idle = max(m.idle_mb for m in measured)
        note = f"{rows:,} rows"
        if idle:
            note += f"; serve idle RSS {idle:.0f} MiB before"
        if "import" in label and rows < ISSUE_IMPORT_ROWS:
            note += f" (issue 6 asks {ISSUE_IMPORT_ROWS:,}: --import-rows)"
        out.append(
            Result(f"(i6) {label}", "rows/s", summarize([m.rate for m in measured]), note=note)
        )
        out.append(
            Result(
                f"(i6) {label}, peak RSS ({who})",
                "MiB",
                summarize([m.peak_mb for m in measured]),
            )
        )
    return out
