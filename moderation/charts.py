"""The dashboard's charts, drawn on the server as SVG: readable without JavaScript, no library, no CDN.

Here only the geometry (numbers, colours, and the values each shape stands for); the SVG is written
by templates/jinja2/moderation/_dashboard.html (`stacked_bars`, a Jinja2 macro: a bar segment per
day and series) and templates/moderation/_chart_horizontal_bars.html, which escape the labels like
any other text. Colours are attributes (fill=...), not inline styles, which the CSP
forbids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

PALETTE = [
    "#2952cc",
    "#d97706",
    "#059669",
    "#dc2626",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#ea580c",
    "#4f46e5",
    "#0d9488",
    "#b91c1c",
    "#a16207",
    "#475569",
]


def colour_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_max(value: int) -> int:
    # Multiples of 4, so that the four grid lines fall on whole numbers.
    for step in (4, 8, 12, 20, 40, 60, 80, 100, 120, 160, 200, 400, 600, 800, 1000, 2000, 4000, 8000, 20_000, 40_000):
        if value <= step:
            return step
    return (value // 4 + 1) * 4


def _1(number: float) -> str:
    """A coordinate with one decimal: enough for a chart, and short markup."""
    return f"{number:.1f}"


@dataclass(frozen=True)
class Bar:
    """One segment of a day's stacked bar: `value` reports of `label` on `day`."""

    x: str
    y: str
    width: str
    height: str
    fill: str
    day: date
    label: str
    value: int


@dataclass(frozen=True)
class GridLine:
    y: str
    text_y: str
    value: int


@dataclass(frozen=True)
class AxisLabel:
    x: str
    day: date


@dataclass(frozen=True)
class StackedBars:
    title: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    label_y: int
    grid: list[GridLine]
    bars: list[Bar]
    x_labels: list[AxisLabel]


def stacked_bars(
    *,
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[int]]],
    title: str,
    width: int = 960,
    height: int = 260,
) -> StackedBars:
    """One bar per day, stacked by series (e.g. categories)."""
    left, bottom, top, right = 40, 24, 10, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(days))]
    y_max = _nice_max(max(totals, default=0) or 1)
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.75, 1)
    bars = []
    for i, day in enumerate(days):
        y = top + plot_h
        for index, (label, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / y_max
            y -= h
            bars.append(
                Bar(
                    x=_1(left + i * slot + (slot - bar_w) / 2),
                    y=_1(y),
                    width=_1(bar_w),
                    height=_1(h),
                    fill=colour_for(index),
                    day=day,
                    label=label,
                    value=value,
                )
            )
    grid = []
    for n in range(5):
        y = top + plot_h - plot_h * n / 4
        grid.append(GridLine(y=_1(y), text_y=_1(y + 4), value=y_max * n // 4))
    label_every = max(1, len(days) // 10)
    x_labels = [
        AxisLabel(x=_1(left + i * slot + slot / 2), day=day) for i, day in enumerate(days) if i % label_every == 0
    ]
    return StackedBars(
        title=title,
        width=width,
        height=height,
        plot_left=left,
        plot_right=width - right,
        label_y=height - 6,
        grid=grid,
        bars=bars,
        x_labels=x_labels,
    )


@dataclass(frozen=True)
class HorizontalBar:
    label: str
    value: int
    label_y: int
    bar_x: int
    bar_y: int
    bar_width: str
    fill: str
    value_x: str
    value_y: int


@dataclass(frozen=True)
class HorizontalBars:
    title: str
    width: int
    height: int
    bars: list[HorizontalBar]


def horizontal_bars(*, items: Sequence[tuple[str, int]], title: str, width: int = 480) -> HorizontalBars:
    """Labelled horizontal bars, e.g. actions by kind."""
    row_h, label_w = 26, 230
    height = max(row_h * len(items) + 10, 40)
    x_max = max((value for _, value in items), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        w = (width - label_w - 50) * value / x_max
        bars.append(
            HorizontalBar(
                label=label,
                value=value,
                label_y=y + 16,
                bar_x=label_w,
                bar_y=y + 4,
                bar_width=_1(w),
                fill=colour_for(i),
                value_x=_1(label_w + w + 6),
                value_y=y + 17,
            )
        )
    return HorizontalBars(title=title, width=width, height=height, bars=bars)
