"""``python -m bench.profiling SCENARIO``: where the time goes, sampled with py-spy.

Runs one scenario's load against the real processes and samples them with ``py-spy
record`` (active threads only, 200 Hz), then prints, per process, the share of samples
spent in each function (inclusive, our code and the libraries) and the top self costs.
Profiling slows the process down: read shares, not rates.

Scenarios: ``single`` (32 clients posting inbound messages), ``batch`` (batches of
1,000 events), ``lag`` (serve, publish and consume at the paced rate), ``rebuild``,
``attestation`` and ``import`` (on a small dataset ledger).
"""

from __future__ import annotations

import argparse
import collections
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench import dataset, ingest, lag, reads, targeting, wrk_load
from bench.clients import Counter, Load
from bench.infra import Bench, api_key, cpu_by_process, cpu_seconds, running, serving
from bench.workload import IMPORT_CLI_AREA, SINGLE_AREA
from tests.support.postgres import fresh_database
from tests.support.processes import CLI

SCENARIOS = ("single", "batch", "lag", "rebuild", "attestation", "import")
PY_SPY = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"


def spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        # --subprocesses: serve --workers N answers from its worker processes.
        [PY_SPY, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200",
         "--format", "raw", "-o", str(out), "--nonblocking", "--subprocesses"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def spy_command(args: list[str], out: Path, env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        # --subprocesses: an import's recording processes.
        [PY_SPY, "record", "-r", "200", "--format", "raw", "-o", str(out), "--subprocesses",
         "--", *args],
        env=env, cwd=cwd, check=False, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0 and not out.exists():
        raise RuntimeError(f"py-spy failed: {done.stderr[-2000:]}")


def summarize(folded: Path, top: int = 30) -> str:
    """Inclusive and self shares of the samples in py-spy's raw (folded) output."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [f.rsplit(":", 1)[0] + ")" if ":" in f else f for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    if not total:
        return f"{folded.name}: no samples"
    lines = [f"{folded.name}: {total} samples of active threads", "  inclusive:"]
    boring = ("threading.py", "asyncio/", "<module>", "runpy", "anyio/_backends", "uvicorn/")
    shown = 0
    for frame, samples in inclusive.most_common():
        if any(b in frame for b in boring):
            continue
        lines.append(f"    {100 * samples / total:5.1f}%  {frame}")
        shown += 1
        if shown == top:
            break
    lines.append("  self:")
    for frame, samples in own.most_common(15):
        lines.append(f"    {100 * samples / total:5.1f}%  {frame}")
    return "\n".join(lines)


def under_load(
    bench: Bench, pids: dict[str, int], seconds: float, load: Callable[[], object]
) -> list[Path]:
    """Sample ``pids`` while ``load`` runs; print the cores each side used meanwhile."""
    outs = {name: bench.workdir / f"{name}.folded" for name in pids}
    before = cpu_by_process(pids)
    client_before, began = cpu_seconds(), time.perf_counter()
    spies = [spy(pid, seconds, outs[name]) for name, pid in pids.items()]
    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(load()), daemon=True)
    thread.start()
    for process in spies:
        process.wait()
    thread.join()
    elapsed = time.perf_counter() - began
    used = {name: (spent - before[name]) / elapsed for name, spent in cpu_by_process(pids).items()}
    used["benchmark clients"] = (cpu_seconds() - client_before) / elapsed
    print("cores used while sampled: " + ", ".join(f"{k} {v:.2f}" for k, v in used.items()))
    if done and isinstance(done[0], Load):
        result = done[0]
        print(
            f"load: {result.rate:.0f}/s, p50 {result.latency_ms(50):.1f} ms, "
            f"p99 {result.latency_ms(99):.1f} ms (slowed by the sampling)"
        )
    if done and isinstance(done[0], wrk_load.WrkRun):
        ran = done[0]
        print(
            f"load (wrk): {ran.rate:.0f}/s, p50 {ran.latency_ms['p50']:.1f} ms, "
            f"p99 {ran.latency_ms['p99']:.1f} ms, wrk {ran.cores:.2f} cores "
            "(slowed by the sampling)"
        )
    return list(outs.values())


def profile(scenario: str, seconds: float, subjects: int, rows: int) -> list[Path]:
    bench = Bench.start(Path(tempfile.mkdtemp(prefix="consent-ledger-profile-")))
    try:
        with fresh_database(bench.server) as url:
            kafka = bench.broker.settings(prefix=f"prof{time.time_ns()}")
            env = bench.env(url, **bench.broker.env(kafka))
            key = api_key(bench, env, "ingest,campaign,auditor")
            if scenario in ("rebuild", "attestation", "import"):
                dataset.record(url, subjects)
                dataset.rebuild(bench, env, "consent_status")
            if scenario == "rebuild":
                out = bench.workdir / "rebuild.folded"
                spy_command(
                    [CLI, "projections", "rebuild", "consent_status"], out, env, bench.workdir
                )
                return [out]
            if scenario == "import":
                path = bench.workdir / "import.csv"
                targeting.import_csv(path, IMPORT_CLI_AREA, 0, rows)
                out = bench.workdir / "import.folded"
                spy_command([CLI, "import", str(path), "--tenant", "acme"], out, env, bench.workdir)
                return [out]
            if scenario == "attestation":
                env["CONSENT_LEDGER_SIGNING_KEY"] = str(dataset.signing_key(bench, env))
                dataset.run_timed(bench, env, "seal", "--once")
            with serving(bench, env) as serve:
                assert serve.base_url is not None
                base, indexes = serve.base_url, Counter()
                if scenario == "single":  # as the bench drives it: wrk, 32 connections
                    stride = int(20_000 * seconds) + 10_000

                    def wrk(first: int, duration: float) -> wrk_load.WrkRun:
                        return wrk_load.run(
                            base, wrk_load.INBOUND, key=key, connections=32, seconds=duration,
                            args=wrk_load.inbound_args(SINGLE_AREA, first, stride, check=True),
                        )  # fmt: skip

                    wrk(0, 1)
                    return under_load(
                        bench, {"serve": serve.pid}, seconds, lambda: wrk(2 * stride, seconds + 1)
                    )
                if scenario == "batch":
                    ingest.run(base, key, seconds=1, indexes=indexes)
                    return under_load(
                        bench, {"serve": serve.pid}, seconds,
                        lambda: ingest.run(base, key, seconds=seconds + 1, indexes=indexes),
                    )  # fmt: skip
                if scenario == "attestation":
                    return under_load(
                        bench, {"serve": serve.pid}, seconds,
                        lambda: reads.attestation(base, key, requests=int(seconds * 30)),
                    )  # fmt: skip
                with (
                    running(bench, "publish", "publish", env=env) as publish,
                    running(bench, "consume", "consume", env=env) as consume,
                ):
                    lag.wait_pipeline_ready(url, base, key, indexes)
                    pids = {"serve": serve.pid, "publish": publish.pid, "consume": consume.pid}
                    return under_load(
                        bench, pids, seconds,
                        lambda: lag.one_run(url, base, key, int(lag.RATE * seconds), indexes, pids),
                    )  # fmt: skip
    finally:
        bench.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__)
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=20_000, help="rows the import imports")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for folded in profile(args.scenario, args.seconds, args.subjects, args.rows):
        print(summarize(folded, args.top))
        print(f"  (raw samples: {folded})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
