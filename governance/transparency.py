"""What the public transparency page shows, read for it (selectors, no writes).

- the active scorecard: its version, when it went live, its base points, each factor's
  bins (a range of the fact's values -> points) and the thin-file rule, and the bands;
- the facts registry (``scoring.facts.FACTS``) and what may never be a fact
  (``scoring.facts.NEVER_FACTS``);
- each active perk's rules in plain words, with the merchant's name and its version;
- the latest fairness audit of what is live: per subject and dimension, the ratios
  only (no count, no mean, no share), suppressed groups named as too few to show;
- the history of activations (scorecards and perk versions), newest first, with the
  approver's justification when there is one, and never who approved.

Nothing here is personal: the page is public and needs no login. The values are data;
their words (``governance.transparency_words``) are said when the page is rendered, in
the visitor's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.apps import apps
from django.utils.dateparse import parse_datetime

from governance import transparency_words as words
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus, Approval, ApprovalSubject
from merchants.perks.rules import Requirement, requirements
from merchants.perks.versions import PerkTerms, perk_terms_active
from scoring.errors import NoActiveScorecard
from scoring.facts import BANDS, FACTS, NEVER_FACTS
from scoring.models import Scorecard, ScorecardStatus
from scoring.scorecard import SCORE_MAX, SCORE_MIN, THIN_FILE_LABEL
from scoring.selectors import scorecard_active

# The history shows this many activations (newest first); older ones stay in the admin.
HISTORY_LIMIT = 100


# --- The active scorecard -------------------------------------------------------------


@dataclass(frozen=True)
class ScoreBin:
    fact: str
    low: int
    high: int | None
    """None: no upper bound."""
    points: int

    @property
    def range_text(self) -> str:
        return words.bin_range(self.fact, self.low, self.high)


@dataclass(frozen=True)
class ScoreFactor:
    key: str
    fact: str
    written_label: str
    """The scorecard's own label (English, as staff wrote it)."""
    history: bool
    """Folded into "your credit history is short" on a thin file."""
    missing_points: int | None
    bins: tuple[ScoreBin, ...]

    @property
    def label(self) -> str:
        known = FACTS.get(self.fact)
        if known is not None and self.written_label == known.label:
            return words.fact_label(self.fact)
        return self.written_label

    @property
    def missing_text(self) -> str:
        return words.missing_text(self.fact)

    @property
    def max_points(self) -> int:
        candidates = [row.points for row in self.bins]
        if self.missing_points is not None:
            candidates.append(self.missing_points)
        return max(candidates)


@dataclass(frozen=True)
class BandRange:
    code: str
    low: int
    high: int

    @property
    def label(self) -> str:
        return words.band_label(self.code)


@dataclass(frozen=True)
class ActiveScorecard:
    version: int
    name: str
    live_since: datetime | None
    base_points: int
    factors: tuple[ScoreFactor, ...]
    score_min: int
    score_max: int
    bands: tuple[BandRange, ...]

    @property
    def history_factors(self) -> tuple[ScoreFactor, ...]:
        return tuple(factor for factor in self.factors if factor.history)

    @property
    def thin_file_reason(self) -> str:
        return words.registry_text(THIN_FILE_LABEL)


def _bins(fact: str, raw: Sequence[Mapping[str, Any]]) -> tuple[ScoreBin, ...]:
    known = FACTS.get(fact)
    maximum = known.maximum if known is not None else None
    starts = [int(row["from"]) for row in raw]
    rows = []
    for index, row in enumerate(raw):
        if index + 1 < len(starts):
            high: int | None = starts[index + 1] - 1
        else:
            high = maximum
        rows.append(ScoreBin(fact=fact, low=starts[index], high=high, points=int(row["points"])))
    return tuple(rows)


def _bands() -> tuple[BandRange, ...]:
    rows = []
    high = SCORE_MAX
    for low, code, _label in BANDS:  # best first
        rows.append(BandRange(code=code, low=low, high=high))
        high = low - 1
    return tuple(rows)


def scorecard_shown(scorecard: Scorecard) -> ActiveScorecard:
    definition = scorecard.definition
    factors = tuple(
        ScoreFactor(
            key=raw["key"],
            fact=raw["fact"],
            written_label=raw.get("label", raw["key"]),
            history=bool(raw.get("history", False)),
            missing_points=raw.get("missing_points"),
            bins=_bins(raw["fact"], raw["bins"]),
        )
        for raw in definition["factors"]
    )
    return ActiveScorecard(
        version=scorecard.version,
        name=scorecard.name,
        live_since=scorecard.activated_at or scorecard.created_at,
        base_points=int(definition["base_points"]),
        factors=factors,
        score_min=SCORE_MIN,
        score_max=SCORE_MAX,
        bands=_bands(),
    )


def scorecard_active_shown() -> ActiveScorecard | None:
    try:
        return scorecard_shown(scorecard_active())
    except NoActiveScorecard:
        return None


# --- The facts, and what may never be one ---------------------------------------------


@dataclass(frozen=True)
class FactShown:
    key: str
    english_label: str
    english_description: str
    scorable: bool

    @property
    def label(self) -> str:
        return words.registry_text(self.english_label)

    @property
    def description(self) -> str:
        return words.registry_text(self.english_description)


@dataclass(frozen=True)
class NeverFactShown:
    key: str
    english_label: str
    english_why: str

    @property
    def label(self) -> str:
        return words.registry_text(self.english_label)

    @property
    def why(self) -> str:
        return words.registry_text(self.english_why)


def facts_shown() -> tuple[FactShown, ...]:
    return tuple(
        FactShown(fact.key, fact.label, fact.description, fact.scorable) for fact in FACTS.values()
    )


def never_facts_shown() -> tuple[NeverFactShown, ...]:
    return tuple(NeverFactShown(never.key, never.label, never.why) for never in NEVER_FACTS)


# --- Perks' rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class RuleLine:
    requirement: Requirement
    currency: str
    message: str
    """A condition's message as the merchant wrote it (empty for a tier)."""

    @property
    def text(self) -> str:
        return words.requirement_text(self.requirement, self.currency)


@dataclass(frozen=True)
class PerkShown:
    merchant_name: str
    kind: str
    version: int | None
    """None until perk versions exist (then the active version's number)."""
    max_amount: int
    currency: str
    conditions: tuple[RuleLine, ...]
    tiers: tuple[RuleLine, ...]

    @property
    def kind_label(self) -> str:
        return words.perk_kind_label(self.kind)

    @property
    def max_amount_text(self) -> str:
        return words.money(self.max_amount, self.currency)


def perk_shown(terms: PerkTerms) -> PerkShown:
    lines = requirements(terms.rules, max_amount=terms.max_amount, currency=terms.currency)
    conditions = [line for line in lines if line.kind == "condition"]
    messages = [condition.message for condition in terms.rules.conditions]
    return PerkShown(
        merchant_name=terms.merchant_name,
        kind=terms.kind,
        version=terms.version,
        max_amount=terms.max_amount,
        currency=terms.currency,
        conditions=tuple(
            RuleLine(line, terms.currency, message)
            for line, message in zip(conditions, messages, strict=True)
        ),
        tiers=tuple(RuleLine(line, terms.currency, "") for line in lines if line.kind == "tier"),
    )


# --- The latest audit of what is live -------------------------------------------------


@dataclass(frozen=True)
class GroupShown:
    dimension: str
    key: str
    stored_label: str
    suppressed: bool
    relative: tuple[float | None, ...]
    """Per rate key: this group's rate over the highest group's (None when suppressed,
    or when no group has the rate)."""

    @property
    def label(self) -> str:
        return words.group_label(self.dimension, self.key, self.stored_label)


@dataclass(frozen=True)
class RatioShown:
    rate_key: str
    ratio: float | None

    @property
    def label(self) -> str:
        return words.rate_label(self.rate_key)


@dataclass(frozen=True)
class DimensionShown:
    key: str
    stored_label: str
    rate_keys: tuple[str, ...]
    ratios: tuple[RatioShown, ...]
    flagged: bool
    groups: tuple[GroupShown, ...]

    @property
    def label(self) -> str:
        return words.dimension_label(self.key, self.stored_label)

    @property
    def rate_labels(self) -> tuple[str, ...]:
        return tuple(words.rate_label(key) for key in self.rate_keys)


@dataclass(frozen=True)
class SubjectShown:
    key: str
    stored_label: str
    perk_version: int | None
    min_ratio: float | None
    flagged: bool
    dimensions: tuple[DimensionShown, ...]
    perk: PerkShown | None
    """The active perk the subject is about, when it is still active (for its words)."""

    @property
    def is_scorecard(self) -> bool:
        return self.key == "scorecard"


@dataclass(frozen=True)
class ProxyShown:
    factor: str
    stored_label: str
    ratio: float | None
    proxy: bool

    @property
    def label(self) -> str:
        known = FACTS.get(self.factor)
        return words.fact_label(self.factor) if known is not None else self.stored_label


@dataclass(frozen=True)
class AuditSummary:
    at: datetime
    floor: float | None
    scorecard_version: int | None
    min_ratio: float | None
    flagged: bool
    subjects: tuple[SubjectShown, ...]
    factor_ratios: tuple[ProxyShown, ...]


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _relative(
    groups: Sequence[Mapping[str, Any]], rate_keys: Sequence[str]
) -> list[tuple[float | None, ...]]:
    highest: dict[str, float] = {}
    for key in rate_keys:
        rates = [
            rate
            for group in groups
            if not group.get("suppressed") and (rate := _float(group.get(key))) is not None
        ]
        highest[key] = max(rates) if rates else 0.0
    rows: list[tuple[float | None, ...]] = []
    for group in groups:
        if group.get("suppressed"):
            rows.append(tuple(None for _ in rate_keys))
            continue
        row: list[float | None] = []
        for key in rate_keys:
            rate = _float(group.get(key))
            row.append(round(rate / highest[key], 2) if rate is not None and highest[key] else None)
        rows.append(tuple(row))
    return rows


def _dimension(raw: Mapping[str, Any], rate_keys: Sequence[str]) -> DimensionShown:
    groups = list(raw.get("groups") or [])
    dimension = str(raw.get("key", ""))
    ratios = raw.get("ratios") or {}
    return DimensionShown(
        key=dimension,
        stored_label=str(raw.get("label", "")),
        rate_keys=tuple(rate_keys),
        ratios=tuple(RatioShown(key, _float(ratios.get(key))) for key in rate_keys),
        flagged=bool(raw.get("flagged")),
        groups=tuple(
            GroupShown(
                dimension=dimension,
                key=str(group.get("key", "")),
                stored_label=str(group.get("label", "")),
                suppressed=bool(group.get("suppressed")),
                relative=relative,
            )
            for group, relative in zip(groups, _relative(groups, rate_keys), strict=True)
        ),
    )


def _perk_of_subject(key: str, perks: Mapping[str, PerkShown]) -> PerkShown | None:
    return perks.get(key.removeprefix("perk:")) if key.startswith("perk:") else None


def audit_summary(run: AnalysisRun, perks: Mapping[str, PerkShown]) -> AuditSummary:
    """The ratios of one done audit (its groups' figures left out: only which groups there
    were, which were too few to show, and each one's rate against the highest group's)."""
    result = cast(dict[str, Any], run.result or {})
    subjects = []
    for raw in result.get("subjects") or []:
        if raw.get("draft"):
            continue  # a live audit examines what is live; a draft is not shown here
        rate_keys = [str(key) for key in raw.get("rate_keys") or []]
        key = str(raw.get("key", ""))
        subjects.append(
            SubjectShown(
                key=key,
                stored_label=str(raw.get("label", "")),
                perk_version=raw.get("perk_version"),
                min_ratio=_float(raw.get("min_ratio")),
                flagged=bool(raw.get("flagged")),
                dimensions=tuple(_dimension(dim, rate_keys) for dim in raw.get("dimensions") or []),
                perk=_perk_of_subject(key, perks),
            )
        )
    at = parse_datetime(str(result.get("at") or "")) or run.finished_at or run.created_at
    scorecard = result.get("scorecard") or {}
    return AuditSummary(
        at=at,
        floor=_float(result.get("floor")),
        scorecard_version=scorecard.get("version") if isinstance(scorecard, dict) else None,
        min_ratio=_float(result.get("min_ratio")),
        flagged=bool(result.get("flagged")),
        subjects=tuple(subjects),
        factor_ratios=tuple(
            ProxyShown(
                factor=str(row.get("factor", "")),
                stored_label=str(row.get("label", "")),
                ratio=_float(row.get("ratio")),
                proxy=bool(row.get("proxy")),
            )
            for row in result.get("factor_points_by_wealth") or []
        ),
    )


def audit_live_latest() -> AnalysisRun | None:
    """The latest finished audit of what is live (not of a draft)."""
    return (
        AnalysisRun.objects.filter(
            kind=AnalysisKind.AUDIT,
            status=AnalysisStatus.DONE,
            scorecard__isnull=True,
            perk_change__isnull=True,
            result__isnull=False,
        )
        .order_by("-finished_at", "-id")
        .first()
    )


# --- The history of activations -------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    subject: str
    """"scorecard" or "perk"."""
    version: int | None
    name: str
    """A scorecard's name; a perk's merchant."""
    kind: str
    """A perk's kind ("" for a scorecard)."""
    activated_at: datetime | None
    retired_at: datetime | None
    justification: str
    audit_min_ratio: float | None
    """The lowest ratio of the audit the approval rested on (None without one)."""
    offered: bool = True
    """False for a perk version that withdrew the perk."""

    @property
    def kind_label(self) -> str:
        return words.perk_kind_label(self.kind) if self.kind else ""

    @property
    def is_scorecard(self) -> bool:
        return self.subject == ApprovalSubject.SCORECARD


def _scorecard_activations() -> list[Activation]:
    scorecards = list(
        Scorecard.objects.filter(status__in=(ScorecardStatus.ACTIVE, ScorecardStatus.RETIRED))
        .order_by("-activated_at", "-version")
        .only("id", "version", "name", "activated_at", "retired_at", "created_at")[:HISTORY_LIMIT]
    )
    approvals: dict[int, Approval] = {}
    for given in Approval.objects.filter(
        subject=ApprovalSubject.SCORECARD, scorecard_id__in=[card.pk for card in scorecards]
    ).order_by("approved_at", "id"):
        approvals[cast(int, given.scorecard_id)] = given  # the latest wins
    rows = []
    for card in scorecards:
        approval = approvals.get(card.pk)
        rows.append(
            Activation(
                subject=ApprovalSubject.SCORECARD,
                version=card.version,
                name=card.name,
                kind="",
                activated_at=card.activated_at or card.created_at,
                retired_at=card.retired_at,
                justification=approval.justification if approval is not None else "",
                audit_min_ratio=approval.min_ratio if approval is not None else None,
            )
        )
    return rows


def _perk_activations() -> list[Activation]:
    """Perk versions, newest first (none until the perks app keeps versions)."""
    try:
        versions = apps.get_model("perks", "PerkVersion")
    except LookupError:
        return []
    rows = list(
        versions.objects.order_by("-activated_at", "-version").values(
            "perk__merchant__name",
            "perk__kind",
            "version",
            "activated_at",
            "retired_at",
            "change_id",
            "is_active",
        )[:HISTORY_LIMIT]
    )
    changes = [row["change_id"] for row in rows if row["change_id"] is not None]
    approvals: dict[Any, Approval] = {}
    for given in Approval.objects.filter(
        subject=ApprovalSubject.PERK, perk_change_id__in=changes
    ).order_by("approved_at", "id"):
        approvals[given.perk_change_id] = given
    shown = []
    for row in rows:
        approval = approvals.get(row["change_id"])
        shown.append(
            Activation(
                subject=ApprovalSubject.PERK,
                version=row["version"],
                name=row["perk__merchant__name"],
                kind=row["perk__kind"],
                activated_at=row["activated_at"],
                retired_at=row["retired_at"],
                justification=approval.justification if approval is not None else "",
                audit_min_ratio=approval.min_ratio if approval is not None else None,
                offered=bool(row["is_active"]),
            )
        )
    return shown


def activations_history() -> tuple[Activation, ...]:
    """Scorecards and perk versions that went live, newest first (at most
    ``HISTORY_LIMIT``)."""
    rows = _scorecard_activations() + _perk_activations()
    rows.sort(key=lambda row: (row.activated_at is not None, row.activated_at), reverse=True)
    return tuple(rows[:HISTORY_LIMIT])


# --- The page -------------------------------------------------------------------------


@dataclass(frozen=True)
class TransparencyPage:
    scorecard: ActiveScorecard | None
    facts: tuple[FactShown, ...]
    never_facts: tuple[NeverFactShown, ...]
    perks: tuple[PerkShown, ...]
    audit: AuditSummary | None
    history: tuple[Activation, ...]


def transparency_page() -> TransparencyPage:
    terms = perk_terms_active()
    perks = {str(item.perk_id): perk_shown(item) for item in terms}
    run = audit_live_latest()
    return TransparencyPage(
        scorecard=scorecard_active_shown(),
        facts=facts_shown(),
        never_facts=never_facts_shown(),
        perks=tuple(perks.values()),
        audit=audit_summary(run, perks) if run is not None else None,
        history=activations_history(),
    )
