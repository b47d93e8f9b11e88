"""The charts of the governance reports: matplotlib figures (Agg, no display) written as
SVG and placed in the page itself, with their text as text.

Each chart is accessible: the SVG carries a ``<title>`` and a ``<desc>`` (``role="img"``
labelled by both), and the same figures come with it as a table (``Chart.rows``), which
the report pages show under the chart. The SVG has no ``<style>`` element and no script,
so the admin's Content Security Policy lets it through; its ids are prefixed with the
chart's own, so that several charts live in one page.

Red marks what needs a look: a group's rate under the floor times the highest group's
(the four-fifths rule), a factor whose points fall with wealth, drift over its limit, a
score decile with more bad outcomes than the one below it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import matplotlib
import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from matplotlib import dates as mdates
from matplotlib.figure import Figure

# No display: figures are drawn in memory and written as SVG.
matplotlib.use("Agg")

BLUE = "#1565c0"
GREY = "#9e9e9e"
RED = "#c62828"
LINE = "#424242"
# Worst band first, as scoring orders them: red to green.
BAND_COLOURS = ("#c62828", "#ef6c00", "#f9a825", "#7cb342", "#2e7d32", "#1b5e20")

_RC: dict[Any, Any] = {
    "svg.fonttype": "none",  # text stays text: readable, searchable, scalable
    "svg.hashsalt": "governance",  # the same figures give the same SVG
    "font.size": 9,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Chart:
    """One chart: its SVG, and its figures as a table for those who cannot see it."""

    id: str
    title: str
    desc: str
    svg: SafeString
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def share(value: float | None) -> str:
    """A share (0..1) as a percentage with one decimal; "-" when unknown."""
    return "-" if value is None else f"{value * 100:.1f}%"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _svg(figure: Figure, *, chart_id: str, title: str, desc: str) -> SafeString:
    """The figure as an SVG element to place in a page (see the module's docstring)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r"<style[^>]*>.*?</style>", "", text, flags=re.DOTALL)
    # Every id (and every reference to one) prefixed with the chart's own.
    prefix = f"{chart_id}-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    opening_end = text.index(">") + 1
    opening = text[:opening_end]
    opening = re.sub(r'\s(width|height)="[^"]*"', "", opening)
    opening = opening.replace(
        "<svg",
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'class="governance-chart" id="{chart_id}" style="max-width: 48rem; height: auto"',
        1,
    )
    labels = (
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    return mark_safe(opening + labels + text[opening_end:])  # noqa: S308 (escaped above)


def _figure(rows: int) -> Figure:
    return Figure(figsize=(7.0, max(1.6, 0.42 * rows + 0.9)), layout="constrained")


def threshold_bars(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    line: float,
    line_label: str,
    red_under: bool,
    axis_label: str,
    value_format: str = "{:.2f}",
    headings: tuple[str, ...] = (),
    rows: Sequence[tuple[str, ...]] = (),
    limit: float | None = None,
) -> Chart:
    """Horizontal bars with a dashed line: bars under it red (``red_under``), or over
    it (drift). The table is ``rows`` (under ``headings``) or, by default, each label
    with its value."""
    with matplotlib.rc_context(_RC):
        figure = _figure(len(labels))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        colours = [
            RED if (value < line if red_under else value > line) else BLUE for value in values
        ]
        bars = axes.barh(positions, values, color=colours)
        axes.set_yticks(positions, labels=list(labels))
        axes.invert_yaxis()
        axes.axvline(line, color=LINE, linestyle="--", linewidth=1)
        axes.annotate(
            line_label,
            xy=(line, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, 2),
            textcoords="offset points",
            color=LINE,
            fontsize=8,
        )
        axes.bar_label(bars, labels=[value_format.format(value) for value in values], padding=3)
        top = max([*values, line, limit or 0.0]) if values else line
        axes.set_xlim(0, top * 1.18 or 1)
        axes.set_xlabel(axis_label)
        flagged = [
            label
            for label, value in zip(labels, values, strict=True)
            if (value < line if red_under else value > line)
        ]
        desc = f"{axis_label} for {len(labels)} bars; a dashed line at {line_label}. " + (
            f"In red, {'under' if red_under else 'over'} the line: {', '.join(flagged)}."
            if flagged
            else f"None is {'under' if red_under else 'over'} the line."
        )
        svg = _svg(figure, chart_id=chart_id, title=title, desc=desc)
    table_rows = tuple(rows) or tuple(
        (label, value_format.format(value)) for label, value in zip(labels, values, strict=True)
    )
    return Chart(
        id=chart_id,
        title=title,
        desc=desc,
        svg=svg,
        headings=headings or ("", axis_label),
        rows=table_rows,
    )


def group_rates_chart(
    *, chart_id: str, dimension: dict[str, Any], rate_key: str, rate_label: str, floor: float
) -> Chart | None:
    """One dimension's groups (those not suppressed) by their rate, with a line at the
    floor times the highest rate: a group under it (red) has a ratio under the floor.
    None when fewer than one group has figures."""
    groups = [
        group
        for group in dimension["groups"]
        if not group.get("suppressed") and group.get(rate_key) is not None
    ]
    if not groups:
        return None
    values = [float(group[rate_key]) for group in groups]
    highest = max(values)
    the_ratio = dimension.get("ratios", {}).get(rate_key)
    title = f"{rate_label} by {dimension['label'].lower()}: ratio {ratio(the_ratio)}"
    rows = tuple(
        (
            group["label"],
            str(group["count"]),
            share(value),
            ratio(value / highest if highest else None),
        )
        for group, value in zip(groups, values, strict=True)
    )
    suppressed = sum(1 for group in dimension["groups"] if group.get("suppressed"))
    if suppressed:
        title += f" ({suppressed} group{'s' if suppressed > 1 else ''} too small to show)"
    return threshold_bars(
        chart_id=chart_id,
        title=title,
        labels=[group["label"] for group in groups],
        values=values,
        line=floor * highest,
        line_label=f"{floor:g} x highest",
        red_under=True,
        axis_label=rate_label,
        value_format="{:.1%}",
        headings=("Group", "Members", rate_label, "Ratio to the highest"),
        rows=rows,
    )


def group_bands_chart(
    *, chart_id: str, dimension: dict[str, Any], bands: Sequence[tuple[str, str]]
) -> Chart | None:
    """The score's distribution in each group (not suppressed): the share of its
    members in each band, worst band first, as one stacked bar per group."""
    groups = [group for group in dimension["groups"] if not group.get("suppressed")]
    if not groups:
        return None
    title = f"Bands by {dimension['label'].lower()}"
    with matplotlib.rc_context(_RC):
        figure = _figure(len(groups) + 1)
        axes = figure.add_subplot()
        positions = list(range(len(groups)))
        left = [0.0] * len(groups)
        for (code, label), colour in zip(bands, BAND_COLOURS, strict=False):
            widths = [float(group.get("bands", {}).get(code) or 0.0) for group in groups]
            axes.barh(positions, widths, left=left, color=colour, label=label)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        axes.set_yticks(positions, labels=[group["label"] for group in groups])
        axes.invert_yaxis()
        axes.set_xlim(0, 1)
        axes.set_xlabel("Share of the group's members")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=len(bands), fontsize=8)
        desc = (
            f"For each of {len(groups)} groups, the share of its members in each band, "
            "worst band first; the table below gives the figures."
        )
        svg = _svg(figure, chart_id=chart_id, title=title, desc=desc)
    rows = tuple(
        (group["label"], *(share(group.get("bands", {}).get(code)) for code, _ in bands))
        for group in groups
    )
    return Chart(
        id=chart_id,
        title=title,
        desc=desc,
        svg=svg,
        headings=("Group", *(label for _, label in bands)),
        rows=rows,
    )


def compare_bars_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    names: tuple[str, str],
    axis_label: str,
    value_format: str = "{:g}",
) -> Chart:
    """Two series side by side (the active version and the draft), one pair per label."""
    with matplotlib.rc_context(_RC):
        figure = _figure(len(labels) * 2)
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        height = 0.4
        axes.barh([p - height / 2 for p in positions], first, height, color=GREY, label=names[0])
        axes.barh([p + height / 2 for p in positions], second, height, color=BLUE, label=names[1])
        axes.set_yticks(positions, labels=list(labels))
        axes.invert_yaxis()
        axes.set_xlabel(axis_label)
        axes.legend(fontsize=8)
        desc = f"{axis_label}: {names[0]} (grey) and {names[1]} (blue) for each of {len(labels)}."
        svg = _svg(figure, chart_id=chart_id, title=title, desc=desc)
    rows = tuple(
        (label, value_format.format(a), value_format.format(b))
        for label, a, b in zip(labels, first, second, strict=True)
    )
    return Chart(id=chart_id, title=title, desc=desc, svg=svg, headings=("", *names), rows=rows)


def psi_chart(*, chart_id: str, items: Sequence[tuple[str, float]], limit: float) -> Chart:
    """The population stability index of each distribution, red over the limit."""
    worst = max((psi for _, psi in items), default=0.0)
    return threshold_bars(
        chart_id=chart_id,
        title=f"Drift since the active version went live: highest PSI {worst:.3f}",
        labels=[label for label, _ in items],
        values=[psi for _, psi in items],
        line=limit,
        line_label=f"limit {limit:g}",
        red_under=False,
        axis_label="Population stability index",
        value_format="{:.3f}",
        headings=("Distribution", "PSI"),
    )


def drift_history_chart(
    *, chart_id: str, points: Sequence[tuple[datetime, float]], limit: float
) -> Chart | None:
    """The highest PSI of each drift check over time, with the limit."""
    if not points:
        return None
    title = "Drift checks: highest PSI over time"
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(7.0, 2.6), layout="constrained")
        axes = figure.add_subplot()
        dates = [at for at, _ in points]
        values = [psi for _, psi in points]
        days = [float(mdates.date2num(at)) for at in dates]
        axes.plot(days, values, color=BLUE, marker="o", markersize=3, linewidth=1)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        over = [(day, psi) for day, psi in zip(days, values, strict=True) if psi > limit]
        if over:
            axes.scatter([day for day, _ in over], [psi for _, psi in over], color=RED, zorder=3)
        axes.axhline(limit, color=LINE, linestyle="--", linewidth=1)
        axes.set_ylim(0, max([*values, limit]) * 1.2)
        axes.set_ylabel("Highest PSI")
        figure.autofmt_xdate()
        desc = (
            f"{len(points)} drift checks from {dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}; "
            f"a dashed line at the limit {limit:g}; {len(over)} over it, in red."
        )
        svg = _svg(figure, chart_id=chart_id, title=title, desc=desc)
    rows = tuple((f"{at:%Y-%m-%d %H:%M}", f"{psi:.3f}") for at, psi in points)
    return Chart(
        id=chart_id,
        title=title,
        desc=desc,
        svg=svg,
        headings=("Checked at", "Highest PSI"),
        rows=rows,
    )


# --- A fit's charts (``governance.fitting.FitReport``) ---------------------------------

ROC_TABLE_STEPS = 10
"""The ROC curve's table gives the share of bads found at each tenth of goods flagged."""


def roc_chart(
    *,
    chart_id: str,
    curves: Sequence[tuple[str, Sequence[Sequence[float]], float | None]],
) -> Chart | None:
    """ROC curves (name, [[false positive rate, true positive rate], ...], AUC): the
    share of bads found against the share of goods caught with them, taking the lowest
    scores first, with the chance diagonal. The first curve is blue, the others grey.
    None without a curve. Its table reads each curve at every tenth of the goods."""
    drawn = [(name, points, auc) for name, points, auc in curves if len(points) >= 2]
    if not drawn:
        return None
    named = [f"{name} (AUC {auc:.3f})" if auc is not None else name for name, _, auc in drawn]
    title = "ROC curve on the test rows: " + ", ".join(named)
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(5.0, 4.6), layout="constrained")
        axes = figure.add_subplot()
        for index, ((_, points, _), label) in enumerate(zip(drawn, named, strict=True)):
            axes.plot(
                [float(p[0]) for p in points],
                [float(p[1]) for p in points],
                color=BLUE if index == 0 else GREY,
                linewidth=1.8 if index == 0 else 1.4,
                label=label,
            )
        axes.plot([0, 1], [0, 1], color=LINE, linestyle="--", linewidth=1, label="Chance")
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_aspect("equal")
        axes.set_xlabel("Share of goods caught (false positive rate)")
        axes.set_ylabel("Share of bads found (true positive rate)")
        axes.legend(loc="lower right", fontsize=8)
        desc = (
            "Taking the lowest scores first, the share of those with a bad outcome found "
            "against the share of those with a good one caught with them, for "
            + " and ".join(named)
            + "; the dashed diagonal is chance. The higher the curve, the better the "
            "score ranks."
        )
        svg = _svg(figure, chart_id=chart_id, title=title, desc=desc)
    steps = [step / ROC_TABLE_STEPS for step in range(ROC_TABLE_STEPS + 1)]
    read = [
        np.interp(steps, [float(p[0]) for p in points], [float(p[1]) for p in points])
        for _, points, _ in drawn
    ]
    rows = tuple(
        (share(step), *(share(float(values[index])) for values in read))
        for index, step in enumerate(steps)
    )
    return Chart(
        id=chart_id,
        title=title,
        desc=desc,
        svg=svg,
        headings=(
            "Goods caught",
            *(f"Bads found: {name.lower()}" for name, _, _ in drawn),
        ),
        rows=rows,
    )


def rate_columns_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    rates: Sequence[float],
    axis_label: str,
    slice_label: str,
    headings: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
    red: Sequence[bool] = (),
) -> Chart:
    """Upright bars of a rate per slice (a score decile, a band), lowest scores on the
    left; a bar marked in ``red`` is red (a rate higher than the slice's below it)."""
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(7.0, 3.0), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        colours = [RED if index < len(red) and red[index] else BLUE for index in positions]
        bars = axes.bar(positions, rates, color=colours)
        axes.set_xticks(positions, labels=list(labels))
        axes.bar_label(bars, labels=[share(rate) for rate in rates], padding=2, fontsize=8)
        axes.set_ylim(0, (max(rates, default=0.0) * 1.2) or 1)
        axes.yaxis.set_major_formatter(lambda value, _: f"{value * 100:.0f}%")
        axes.set_ylabel(axis_label)
        axes.set_xlabel(slice_label)
        svg = _svg(figure, chart_id=chart_id, title=title, desc=desc)
    return Chart(id=chart_id, title=title, desc=desc, svg=svg, headings=headings, rows=tuple(rows))


def bins_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    bad_rates: Sequence[float],
    points: Sequence[int],
    rows: Sequence[tuple[str, ...]],
    headings: tuple[str, ...],
) -> Chart:
    """One fact's bins side by side: their bad rate (left) and the points each earns
    (right), the bins from top to bottom as the table lists them."""
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(7.0, max(1.6, 0.42 * len(labels) + 0.9)), layout="constrained")
        rate_axes, points_axes = figure.subplots(1, 2, sharey=True)
        positions = list(range(len(labels)))
        bars = rate_axes.barh(positions, bad_rates, color=GREY)
        rate_axes.bar_label(bars, labels=[share(rate) for rate in bad_rates], padding=3)
        rate_axes.set_xlim(0, (max(bad_rates, default=0.0) * 1.3) or 1)
        rate_axes.xaxis.set_major_formatter(lambda value, _: f"{value * 100:.0f}%")
        rate_axes.set_xlabel("Bad rate (training rows)")
        rate_axes.set_yticks(positions, labels=list(labels))
        rate_axes.invert_yaxis()
        bars = points_axes.barh(positions, points, color=BLUE)
        points_axes.bar_label(bars, labels=[str(value) for value in points], padding=3)
        points_axes.set_xlim(0, (max(points, default=0) * 1.3) or 1)
        points_axes.set_xlabel("Points")
        desc = (
            f"{len(labels)} bins: "
            + "; ".join(
                f"{label}: bad rate {share(rate)}, {value} point{'' if value == 1 else 's'}"
                for label, rate, value in zip(labels, bad_rates, points, strict=True)
            )
            + "."
        )
        svg = _svg(figure, chart_id=chart_id, title=title, desc=desc)
    return Chart(id=chart_id, title=title, desc=desc, svg=svg, headings=headings, rows=tuple(rows))
