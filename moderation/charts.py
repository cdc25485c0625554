"""Charts drawn on the server as SVG: readable without JavaScript, no library, no CDN.

Every string that reaches the SVG goes through format_html, so labels are escaped like any other
user-visible text. Colours are attributes (fill=...), not inline styles, which the CSP forbids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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


def stacked_bars(
    *,
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[int]]],
    title: str,
    width: int = 960,
    height: int = 260,
) -> SafeString:
    """One bar per day, stacked by series (e.g. categories)."""
    left, bottom, top, right = 40, 24, 10, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(days))]
    y_max = _nice_max(max(totals, default=0) or 1)
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.75, 1)
    rects = []
    for i, day in enumerate(days):
        y = top + plot_h
        for index, (label, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / y_max
            y -= h
            rects.append(
                (
                    f"{left + i * slot + (slot - bar_w) / 2:.1f}",
                    f"{y:.1f}",
                    f"{bar_w:.1f}",
                    f"{h:.1f}",
                    colour_for(index),
                    f"{day:%d %b}: {label} {value}",
                )
            )
    grid = []
    for n in range(5):
        value = y_max * n // 4
        y = top + plot_h - plot_h * n / 4
        grid.append((f"{y:.1f}", f"{y + 4:.1f}", value))
    label_every = max(1, len(days) // 10)
    x_labels = [
        (f"{left + i * slot + slot / 2:.1f}", f"{day:%d %b}") for i, day in enumerate(days) if i % label_every == 0
    ]
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}{}{}</svg>",
        width,
        height,
        title,
        title,
        format_html_join(
            "",
            '<line x1="40" x2="{}" y1="{}" y2="{}" stroke="#e5e7eb"/>'
            '<text x="34" y="{}" text-anchor="end" font-size="11" fill="#5b6474">{}</text>',
            ((width - right, y, y, ty, v) for y, ty, v in grid),
        ),
        format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', rects),
        format_html_join(
            "",
            '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#5b6474">{}</text>',
            ((x, height - 6, text) for x, text in x_labels),
        ),
    )


def horizontal_bars(*, items: Sequence[tuple[str, int]], title: str, width: int = 480) -> SafeString:
    """Labelled horizontal bars, e.g. actions by kind."""
    row_h, label_w = 26, 230
    height = max(row_h * len(items) + 10, 40)
    x_max = max((value for _, value in items), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        w = (width - label_w - 50) * value / x_max
        bars.append((y + 16, label, label_w, y + 4, f"{w:.1f}", colour_for(i), label_w + w + 6, y + 17, value))
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}</svg>",
        width,
        height,
        title,
        title,
        format_html_join(
            "",
            '<text x="0" y="{}" font-size="12" fill="#1d2330">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="16" rx="3" fill="{}"/>'
            '<text x="{}" y="{}" font-size="12" fill="#1d2330">{}</text>',
            bars,
        ),
    )
