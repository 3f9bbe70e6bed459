"""The results: one table on stdout and ``bench/results.json``."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import psycopg

from bench.stats import Summary


@dataclass(frozen=True)
class Target:
    """What the issue asks for: ``metric`` (the value or the ratio) ``op`` ``threshold``."""

    text: str
    threshold: float
    op: Literal[">=", "<"] = ">="
    metric: Literal["value", "ratio"] = "value"

    def met(self, value: float, ratio: float | None) -> bool | None:
        measured = ratio if self.metric == "ratio" else value
        if measured is None or math.isnan(measured):
            return None
        return measured >= self.threshold if self.op == ">=" else measured < self.threshold

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "metric": self.metric, "op": self.op, "value": self.threshold}


@dataclass
class Result:
    name: str
    unit: str
    summary: Summary
    ratio_name: str | None = None  # the baseline measured side by side
    ratio: float | None = None
    target: Target | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.summary.median, self.ratio)

    def as_dict(self) -> dict[str, Any]:
        ratio = (
            None
            if self.ratio_name is None or self.ratio is None
            else {"name": self.ratio_name, "ratio": _round(self.ratio)}
        )
        return {
            "name": self.name,
            "value": _round(self.summary.median),
            "unit": self.unit,
            "runs": [_round(r) for r in self.summary.runs],
            "min": _round(self.summary.low),
            "max": _round(self.summary.high),
            "ratio_to": ratio,
            "target": None if self.target is None else self.target.as_dict(),
            "met": self.met,
            "note": self.note or None,
            **self.extra,
        }


def compared(
    name: str,
    unit: str,
    summary: Summary,
    baseline_name: str,
    baseline: Summary,
    target: Target | None = None,
    note: str = "",
) -> Result:
    """A result with its ratio (median over median) to a baseline measured in the same run."""
    ratio = summary.median / baseline.median if baseline.median else math.nan
    return Result(name, unit, summary, baseline_name, ratio, target, note)


def _round(value: float) -> float | None:
    if math.isnan(value):
        return None
    if abs(value) >= 100:
        return round(value, 1)
    return round(value, 4)


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(results: list[Result]) -> str:
    header = ("scenario", "value (median)", "unit", "min-max", "runs", "ratio", "target", "met?")
    rows = [header]
    for r in results:
        s = r.summary
        spread = f"{_fmt(s.low)}-{_fmt(s.high)}" if len(s.runs) > 1 else "-"
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x {r.ratio_name}"
        met = {None: "", True: "yes", False: "NO"}[r.met]
        target = r.target.text if r.target else ""
        rows.append((r.name, _fmt(s.median), r.unit, spread, str(len(s.runs)), ratio, target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in (1, 3, 4) else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results: list[Result]) -> str:
    """The same table in Markdown (for README.md)."""
    return _markdown([r.as_dict() for r in results])


def machine(conninfo: str) -> dict[str, Any]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        settings = {
            name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("server_version", "synchronous_commit", "fsync", "shared_buffers")
        }
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "postgresql": settings,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write(path: Path, results: list[Result], info: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": info, "results": [r.as_dict() for r in results]}
    path.write_text(json.dumps(document, indent=2) + "\n")


def markdown_from_file(path: Path) -> str:
    """The Markdown table of a ``results.json`` (for the README)."""
    return _markdown(json.loads(path.read_text())["results"])


def _markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | value (median) | unit | min-max | runs | ratio | target | met? |",
        "| --- | ---: | --- | ---: | ---: | --- | --- | --- |",
    ]
    for r in results:
        runs = [math.nan if v is None else v for v in r["runs"]]
        spread = f"{_fmt(min(runs))}-{_fmt(max(runs))}" if len(runs) > 1 else "-"
        ratio = r["ratio_to"]
        ratio_text = "" if ratio is None else f"{ratio['ratio']:.2f}x {ratio['name']}"
        met = {None: "", True: "yes", False: "**no**"}[r["met"]]
        target = r["target"]["text"] if r["target"] else ""
        value = math.nan if r["value"] is None else r["value"]
        lines.append(
            f"| {r['name']} | {_fmt(value)} | {r['unit']} | {spread} | {len(runs)} "
            f"| {ratio_text} | {target} | {met} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_from_file(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results.json")))
