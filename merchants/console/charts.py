"""A bar chart's geometry, for a server-rendered SVG (no script, no database): the
template draws what :func:`bar_chart` lays out. Values are counts (whole numbers)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The plot's margins inside the SVG's view box: room for the axis labels.
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 8, 24


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: int  # which series (0, 1...): the bar's CSS class
    label: str  # the category it belongs to (a day of the month)


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    plot_left: int
    plot_right: int
    plot_bottom: int
    top: int


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 4, 5, 10, 20, 40, 50, 100... at or above ``value`` (at least
    4 when above 2, so that four ticks stay whole numbers)."""
    if value <= 2:
        return max(value, 1)
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 5, 10):
        if step * magnitude >= value and step * magnitude >= 4:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Sequence[int]],
    *,
    width: int = 720,
    height: int = 240,
    label_every: int = 5,
) -> BarChart:
    """Grouped bars: one group per category (``categories``), one bar per series in it.
    Every series has one value per category. The y axis runs from 0 to a round ceiling
    of the largest value; the x axis labels the first category and every
    ``label_every``-th."""
    if any(len(values) != len(categories) for values in series):
        raise ValueError("Every series has one value per category.")
    top_value = nice_ceiling(max((max(values, default=0) for values in series), default=0))
    plot_width = width - LEFT - RIGHT
    plot_height = height - TOP - BOTTOM
    bottom = TOP + plot_height
    slot = plot_width / max(len(categories), 1)
    bar_width = slot * 0.8 / max(len(series), 1)
    bars = []
    for index, category in enumerate(categories):
        for number, values in enumerate(series):
            value = values[index]
            bar_height = plot_height * value / top_value
            bars.append(
                Bar(
                    x=round(LEFT + slot * index + slot * 0.1 + bar_width * number, 2),
                    y=round(bottom - bar_height, 2),
                    width=round(bar_width, 2),
                    height=round(bar_height, 2),
                    value=value,
                    series=number,
                    label=category,
                )
            )
    steps = 4 if top_value >= 4 else top_value
    y_ticks = tuple(
        Tick(round(bottom - plot_height * step / steps, 2), str(top_value * step // steps))
        for step in range(steps + 1)
    )
    x_ticks = tuple(
        Tick(round(LEFT + slot * index + slot / 2, 2), category)
        for index, category in enumerate(categories)
        if index == 0 or (index + 1) % label_every == 0
    )
    return BarChart(
        width=width,
        height=height,
        bars=tuple(bars),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        plot_left=LEFT,
        plot_right=width - RIGHT,
        plot_bottom=bottom,
        top=TOP,
    )
