"""Plain SVG bar charts of ``consent_daily`` rows, drawn on the server (no chart library,
no script): opt-ins and opt-outs per day stacked by capture method, and totals by
keyword. The template renders the rectangles; each carries a title for the tooltip and a
data table beside the chart says the same in text."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from api.console.operations_summary import DailyRow

# Colour-blind-safe (Okabe-Ito), each at least 3:1 against white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#7A5C00", "#56B4E9", "#000000")
WIDTH, HEIGHT, BOTTOM, LEFT = 720, 260, 40, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    legend: list[tuple[str, str]]  # (name, colour)
    maximum: int

    @property
    def empty(self) -> bool:
        return not self.bars


def _colours(names: Sequence[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(names)))}


def daily_chart(rows: Sequence[DailyRow]) -> Chart:
    """Per day two bars, opt-ins then opt-outs, each stacked by capture method."""
    days = sorted({r.day for r in rows})
    stacks: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        stacks[(r.day, r.kind)][r.method or "unknown"] += r.count
    colours = _colours([r.method or "unknown" for r in rows])
    maximum = max((sum(s.values()) for s in stacks.values()), default=0)
    bars: list[Bar] = []
    labels: list[Label] = []
    if not days or maximum == 0:
        return Chart(WIDTH, HEIGHT, [], [], [], 0)
    slot = (WIDTH - LEFT) / len(days)
    bar_width = max(2.0, min(24.0, slot / 2 - 4))
    scale = (HEIGHT - BOTTOM - 10) / maximum
    for i, day in enumerate(days):
        for j, kind in enumerate(("opt_in", "opt_out")):
            x = LEFT + i * slot + j * (bar_width + 2) + 2
            top = float(HEIGHT - BOTTOM)
            for method, count in sorted(stacks[(day, kind)].items()):
                h = count * scale
                top -= h
                verb = "opt-ins" if kind == "opt_in" else "opt-outs"
                bars.append(
                    Bar(x, top, bar_width, h, colours[method], f"{day}: {count} {verb} by {method}")
                )
        if len(days) <= 10 or i % max(1, len(days) // 10) == 0:
            labels.append(Label(LEFT + i * slot + 2, HEIGHT - BOTTOM + 16, day[5:]))
    labels.append(Label(0, 14, f"{maximum} max"))
    legend = list(colours.items())
    return Chart(WIDTH, HEIGHT, bars, labels, legend, maximum)


def keyword_chart(rows: Sequence[DailyRow]) -> Chart:
    """Totals by keyword (rows recorded without a keyword are left out), one bar each."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        if r.keyword:
            totals[(r.keyword, r.kind)] += r.count
    if not totals:
        return Chart(WIDTH, 60, [], [], [], 0)
    items = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:12]
    maximum = items[0][1]
    colours = {"opt_in": PALETTE[2], "opt_out": PALETTE[1]}
    row_height, label_width = 26, 200
    height = row_height * len(items) + 10
    bars, labels = [], []
    for i, ((keyword, kind), count) in enumerate(items):
        y = 5 + i * row_height
        width = (WIDTH - label_width - 60) * count / maximum
        verb = "opt-in" if kind == "opt_in" else "opt-out"
        title = f"{keyword} ({verb}): {count}"
        bars.append(Bar(label_width, y, width, row_height - 6, colours[kind], title))
        labels.append(Label(4, y + 15, f"{keyword} ({verb})"))
        labels.append(Label(label_width + width + 6, y + 15, str(count)))
    legend = [("opt-in keyword", colours["opt_in"]), ("opt-out keyword", colours["opt_out"])]
    return Chart(WIDTH, height, bars, labels, legend, maximum)
