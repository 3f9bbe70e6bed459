"""Medians of repeated runs with their spread, and latency percentiles."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """A figure measured ``len(runs)`` times: the median and the min-max of the runs."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else math.nan

    @property
    def low(self) -> float:
        return min(self.runs) if self.runs else math.nan

    @property
    def high(self) -> float:
        return max(self.runs) if self.runs else math.nan


def summarize(values: Sequence[float]) -> Summary:
    return Summary(tuple(float(v) for v in values))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linearly interpolated between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    below, above = math.floor(rank), math.ceil(rank)
    if below == above:
        return ordered[below]
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else math.nan
