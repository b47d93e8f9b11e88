"""A scorecard's factors and bins as a table staff read and edit in the admin.

The table posts flat inputs (``definition-base_points``, ``definition-0-label``,
``definition-0-bin-2-from`` ...): :class:`ScorecardTableWidget` turns them back into a
definition (``scoring.scorecard``'s JSON), which :class:`ScorecardDefinitionField` checks
with :meth:`scoring.scorecard.Scorecard.from_definition`. Its errors are shown where
they belong: the definition's own above the table, a factor's under the factor, and a
bin's on its row (which rows break a rule of the bins is worked out here, from the same
rules, so that staff see the row to fix).

Rows are added with a blank row under each factor's bins (and, with JavaScript, an "Add
a row" button); a row or a factor is removed by ticking its "Remove" box; blank rows
are ignored. The same table, without inputs, shows an active or retired version.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from scoring.facts import FACTS, Fact
from scoring.scorecard import POINTS_LIMIT, SCORE_MAX, SCORE_MIN, Scorecard, ScorecardInvalid
from wallet.models import IdentityLevel

TEMPLATE = "admin/scoring/scorecard/definition_table.html"

# The words for each value of a fact that is a level (a select, not a number).
LEVEL_NAMES: dict[str, tuple[tuple[int, str], ...]] = {
    "identity_level": tuple((int(value), str(label)) for value, label in IdentityLevel.choices),
}
# What the values of each kind of fact are counted in.
KIND_UNITS: dict[str, str] = {
    "percent": "%",
    "days": "days",
    "count": "count",
    "level": "level",
}

_FACTOR_FIELDS = ("key", "fact", "label", "reason", "tip", "missing_points")
_NAME = re.compile(
    r"^(?P<prefix>[a-z_]+)-(?P<factor>\d+)-(?:bin-(?P<bin>\d+)-)?(?P<field>[a-z_]+)$"
)
_WHOLE = re.compile(r"^[+-]?\d+$")


def fact_unit(fact: Fact | None) -> str:
    return "" if fact is None else KIND_UNITS.get(fact.kind, "")


def fact_levels(fact: Fact | None) -> tuple[tuple[int, str], ...]:
    return () if fact is None else LEVEL_NAMES.get(fact.key, ())


def value_in_words(fact: Fact | None, value: int) -> str:
    """One value of a fact as staff read it: "50 %", "90 days", "Phone verified"."""
    levels = dict(fact_levels(fact))
    if value in levels:
        return levels[value]
    unit = fact_unit(fact)
    if unit in ("%", "days"):
        return f"{value} {unit}"
    return str(value)


def fact_units() -> dict[str, dict[str, Any]]:
    """What the table's script needs to know of each scorable fact."""
    return {
        key: {
            "unit": fact_unit(fact),
            "levels": [[value, label] for value, label in fact_levels(fact)],
            "optional": fact.optional,
            "minimum": fact.minimum,
            "maximum": fact.maximum,
        }
        for key, fact in FACTS.items()
        if fact.scorable
    }


def _whole(text: str) -> int | str | None:
    """A cell as the definition holds it: a whole number, None when blank, or the text
    itself (which the definition's checks then refuse, naming the row)."""
    text = text.strip()
    if not text:
        return None
    return int(text) if _WHOLE.match(text) else text


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


# --- The rows -------------------------------------------------------------------------


@dataclass
class BinRow:
    index: int
    start: str = ""
    points: str = ""
    covers: str = ""
    shown: str = ""  # "from" as read: "50 %", "Phone verified"
    errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not self.start.strip() and not self.points.strip()


@dataclass
class FactorRow:
    index: int
    key: str = ""
    fact: str = ""
    label: str = ""
    reason: str = ""
    tip: str = ""
    history: bool = False
    missing_points: str = ""
    bins: list[BinRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    max_points: int | None = None

    @property
    def blank(self) -> bool:
        texts = (self.key, self.label, self.reason, self.tip, self.missing_points)
        return not any(text.strip() for text in texts) and all(row.blank for row in self.bins)

    @property
    def fact_info(self) -> Fact | None:
        return FACTS.get(self.fact)

    @property
    def unit(self) -> str:
        return fact_unit(self.fact_info)

    @property
    def levels(self) -> tuple[tuple[int, str], ...]:
        return fact_levels(self.fact_info)

    @property
    def level_values(self) -> tuple[str, ...]:
        return tuple(str(value) for value, _ in self.levels)

    @property
    def optional(self) -> bool:
        fact = self.fact_info
        return fact is not None and fact.optional


@dataclass
class Table:
    """The table as posted or as stored: what the page shows, and the definition."""

    base_points: str = ""
    factors: list[FactorRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_definition(cls, definition: Any) -> Table:
        if not isinstance(definition, Mapping):
            return cls()
        factors = []
        raw_factors = definition.get("factors")
        for index, raw in enumerate(raw_factors if isinstance(raw_factors, list) else []):
            if not isinstance(raw, Mapping):
                continue
            raw_bins = raw.get("bins")
            bins = [
                BinRow(index=j, start=_cell(b.get("from")), points=_cell(b.get("points")))
                for j, b in enumerate(raw_bins if isinstance(raw_bins, list) else [])
                if isinstance(b, Mapping)
            ]
            factors.append(
                FactorRow(
                    index=index,
                    key=_cell(raw.get("key")),
                    fact=_cell(raw.get("fact")),
                    label=_cell(raw.get("label")),
                    reason=_cell(raw.get("reason")),
                    tip=_cell(raw.get("tip")),
                    history=raw.get("history") is True,
                    missing_points=_cell(raw.get("missing_points")),
                    bins=bins,
                )
            )
        return cls(base_points=_cell(definition.get("base_points")), factors=factors)

    @classmethod
    def from_post(cls, data: Mapping[str, Any], prefix: str) -> Table:
        """The table's inputs, in the order of their indices; removed and blank rows
        left out."""
        factors: dict[int, dict[str, str]] = {}
        bins: dict[int, dict[int, dict[str, str]]] = {}
        for name in data:
            match = _NAME.match(name)
            if match is None or match["prefix"] != prefix:
                continue
            value = str(data.get(name, ""))
            i = int(match["factor"])
            if match["bin"] is None:
                factors.setdefault(i, {})[match["field"]] = value
            else:
                bins.setdefault(i, {}).setdefault(int(match["bin"]), {})[match["field"]] = value
        rows = []
        for i in sorted(set(factors) | set(bins)):
            fields = factors.get(i, {})
            if "remove" in fields:
                continue
            factor = FactorRow(
                index=i,
                key=fields.get("key", ""),
                fact=fields.get("fact", ""),
                label=fields.get("label", ""),
                reason=fields.get("reason", ""),
                tip=fields.get("tip", ""),
                missing_points=fields.get("missing_points", ""),
                history="history" in fields,
                bins=[
                    BinRow(index=j, start=cells.get("from", ""), points=cells.get("points", ""))
                    for j, cells in sorted(bins.get(i, {}).items())
                    if "remove" not in cells
                ],
            )
            factor.bins = [row for row in factor.bins if not row.blank]
            if not factor.blank:
                rows.append(factor)
        return cls(base_points=str(data.get(f"{prefix}-base_points", "")), factors=rows)

    def definition(self) -> dict[str, Any]:
        """The definition the table says, in the order of ``scoring.scorecard``'s."""
        factors = []
        for row in self.factors:
            factor: dict[str, Any] = {
                "key": row.key.strip(),
                "fact": row.fact,
                "label": row.label.strip(),
                "reason": row.reason.strip(),
                "tip": row.tip.strip(),
            }
            if row.history:
                factor["history"] = True
            if row.missing_points.strip():
                factor["missing_points"] = _whole(row.missing_points)
            factor["bins"] = [
                {"from": _whole(b.start), "points": _whole(b.points)} for b in row.bins
            ]
            factors.append(factor)
        return {"base_points": _whole(self.base_points), "factors": factors}

    def check(self) -> list[str]:
        """Check the definition with ``Scorecard.from_definition``; place each error on
        its factor or row (and say what is wrong with each row); returns every error."""
        self.errors = []
        for row in self.factors:
            row.errors, row.max_points = [], None
            for b in row.bins:
                b.errors, b.covers = [], ""
                start = _whole(b.start)
                b.shown = (
                    value_in_words(row.fact_info, start) if isinstance(start, int) else b.start
                )
        try:
            card = Scorecard.from_definition(self.definition())
        except ScorecardInvalid as invalid:
            self._place(invalid.errors)
            return invalid.errors
        for row, factor in zip(self.factors, card.factors, strict=True):
            row.max_points = factor.max_points
            self._cover(row)
        return []

    def _place(self, errors: list[str]) -> None:
        for error in errors:
            match = re.match(r"^factors\[(\d+)\]: (.*)$", error)
            if match is None or int(match[1]) >= len(self.factors):
                self.errors.append(error)
                continue
            row = self.factors[int(match[1])]
            row.errors.append(match[2])
        for row in self.factors:
            if row.errors:
                _bin_row_errors(row)
            self._cover(row)

    def _cover(self, row: FactorRow) -> None:
        """Each bin's values in words ("50-79 %", "3 or more"), where they can be said."""
        fact = row.fact_info
        starts = [s for s in (_whole(b.start) for b in row.bins) if isinstance(s, int)]
        if fact is None or len(starts) != len(row.bins):
            return
        for j, b in enumerate(row.bins):
            start = starts[j]
            following = starts[j + 1] if j + 1 < len(starts) else None
            end = following - 1 if isinstance(following, int) else fact.maximum
            if end is None:
                b.covers = f"{value_in_words(fact, start)} or more"
            elif end <= start:
                b.covers = value_in_words(fact, start)
            else:
                b.covers = f"{value_in_words(fact, start)} to {value_in_words(fact, end)}"
                if row.unit in ("%", "days"):
                    b.covers = f"{start}-{end} {row.unit}"

    def render(self, *, name: str, readonly: bool) -> SafeString:
        context = {
            "name": name,
            "readonly": readonly,
            "table": self,
            "facts": [(key, fact.label) for key, fact in FACTS.items() if fact.scorable],
            "fact_units": fact_units(),
            "next_index": max((row.index for row in self.factors), default=-1) + 1,
            "score_min": SCORE_MIN,
            "score_max": SCORE_MAX,
            "best": self.best(),
        }
        return SafeString(render_to_string(TEMPLATE, context))

    def best(self) -> int | None:
        base = _whole(self.base_points)
        maxima = [row.max_points for row in self.factors]
        if not isinstance(base, int) or any(points is None for points in maxima):
            return None
        return min(base + sum(p for p in maxima if p is not None), SCORE_MAX)


def _bin_row_errors(row: FactorRow) -> None:
    """Say on each bin row which rule of the bins it breaks (the factor's errors say it
    in the definition's words)."""
    fact = row.fact_info
    values = [(_whole(b.start), _whole(b.points)) for b in row.bins]
    for b, (start, points) in zip(row.bins, values, strict=True):
        if not isinstance(start, int) or not isinstance(points, int):
            b.errors.append("Whole numbers only, in both cells.")
        elif abs(points) > POINTS_LIMIT:
            b.errors.append(f"Points must be within ±{POINTS_LIMIT}.")
    if fact is None or any(b.errors for b in row.bins):
        return
    first = row.bins[0] if row.bins else None
    if first is not None and values[0][0] != fact.minimum:
        first.errors.append(
            f"The first row must start at {value_in_words(fact, fact.minimum)}, "
            "the least there can be."
        )
    for (earlier, later), b in zip(itertools.pairwise(values), row.bins[1:], strict=True):
        if isinstance(later[0], int) and isinstance(earlier[0], int) and later[0] <= earlier[0]:
            b.errors.append("Must start above the row before.")
        if fact.maximum is not None and isinstance(later[0], int) and later[0] > fact.maximum:
            b.errors.append(f"Starts above {value_in_words(fact, fact.maximum)}, the most.")
        if isinstance(later[1], int) and isinstance(earlier[1], int):
            if fact.higher_is_better and later[1] < earlier[1]:
                b.errors.append("Fewer points than the row before, for a better value.")
            if not fact.higher_is_better and later[1] > earlier[1]:
                b.errors.append("More points than the row before, for a worse value.")


# --- The form field ---------------------------------------------------------------------


class ScorecardTableWidget(forms.Widget):
    """The table of a draft's factors and bins, with inputs."""

    class Media:
        js = ("scoring/admin/scorecard-table.js",)
        css = {"all": ("scoring/admin/scorecard-table.css",)}

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Table:
        return Table.from_post(data, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}-base_points" not in data

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        table = value if isinstance(value, Table) else Table.from_definition(value)
        table.check()
        return table.render(name=name, readonly=False)


class ScorecardDefinitionField(forms.Field):
    """A definition edited as a table; clean gives the definition, checked by
    ``Scorecard.from_definition`` (its errors, each as the validator says it)."""

    widget = ScorecardTableWidget

    def prepare_value(self, value: Any) -> Any:
        return value

    def to_python(self, value: Any) -> Any:
        if isinstance(value, Table):
            return value.definition()
        return value

    def validate(self, value: Any) -> None:
        super().validate(value)
        try:
            Scorecard.from_definition(value)
        except ScorecardInvalid as invalid:
            raise ValidationError(
                [ValidationError(error, code="invalid_scorecard") for error in invalid.errors]
            ) from invalid

    def has_changed(self, initial: Any, data: Any) -> bool:
        current = data.definition() if isinstance(data, Table) else data
        return bool(current != initial)


def definition_table(definition: Any) -> SafeString:
    """The same table without inputs: an active or retired version's factors and bins."""
    table = Table.from_definition(definition)
    table.check()
    return table.render(name="definition", readonly=True)


def definition_post(definition: Mapping[str, Any], prefix: str = "definition") -> dict[str, str]:
    """The inputs the table posts for ``definition`` (what a browser sends)."""
    data = {f"{prefix}-base_points": _cell(definition.get("base_points"))}
    for i, factor in enumerate(definition.get("factors", [])):
        for name in _FACTOR_FIELDS:
            if factor.get(name) is not None:
                data[f"{prefix}-{i}-{name}"] = _cell(factor.get(name))
        if factor.get("history"):
            data[f"{prefix}-{i}-history"] = "on"
        for j, b in enumerate(factor.get("bins", [])):
            data[f"{prefix}-{i}-bin-{j}-from"] = _cell(b.get("from"))
            data[f"{prefix}-{i}-bin-{j}-points"] = _cell(b.get("points"))
    return data
