"""A perk draft's dry-run: what the draft would decide for today's population, beside
what the active version of the same perk decides.

Each active citizen is scored as merchants read them now (the current snapshots of the
active scorecard; accounts without one are scored on today's features), and each
version's rules (``merchants.perks.rules.evaluate``) decide a deposit of ``requested``:
the larger of the two versions' maximums, the same for both so that they compare. The
report counts who would be eligible and get something waived, in full or in part, and
the amounts waived (minor units): in all, band by band (under the active scorecard) and
group by group (``governance.population``'s dimensions; small groups suppressed, as in
the audit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from django.utils import timezone

from governance.analysis import AnalysisOutcome, Progress
from governance.audit import (
    GroupCodes,
    Profiles,
    figure_of,
    frame_ratios,
    group_codes,
    group_frame,
    perk_waived,
    population_scored,
    selection,
    share_of,
    weighted_mean,
    weighted_table,
)
from governance.models import AnalysisRun
from governance.population import DIMENSIONS, population_load
from merchants.perks.models import PerkChange
from merchants.perks.versions import (
    PerkTerms,
    perk_change_digest,
    perk_terms_active,
    perk_terms_of_change,
)
from scoring import selectors
from scoring.facts import BAND_CODES, BAND_LABELS


class DryRunWithoutDraft(ValueError):
    """A dry-run examines a perk draft (a pending change): none was given."""


def _totals(eligible: np.ndarray, waived: np.ndarray, requested: int) -> dict[str, int]:
    return {
        "eligible": int(np.count_nonzero(eligible)),
        "waived_any": int(np.count_nonzero(waived > 0)),
        "waived_full": int(np.count_nonzero(waived >= requested)),
        "waived_total": int(waived.sum()),
    }


def dimension_report(
    groups: GroupCodes, active_waived: np.ndarray, draft_waived: np.ndarray, *, has_active: bool
) -> dict[str, Any]:
    """One dimension of the dry-run: per shown group, the share with anything waived and
    the mean waived under each version, and the ratio of the shares (fairlearn, on
    frequency-weighted rows as in the audit)."""
    dimension = groups.dimension
    profiles = Profiles.of_columns({"active": active_waived > 0, "draft": draft_waived > 0})
    table = weighted_table(
        groups,
        profiles,
        {"active": active_waived.astype(np.float64), "draft": draft_waived.astype(np.float64)},
    )
    by_group: dict[int, dict[str, Any]] = {}
    frame = None
    if len(table.group):
        frame = group_frame(
            table,
            {
                f"{version}:{name}": (function, {key: source[version]})
                for version in ("active", "draft")
                for name, function, key, source in (
                    ("any", selection, "chosen", table.columns),
                    ("mean", weighted_mean, "total", table.totals),
                )
            },
        )
        by_group = {int(code): row.to_dict() for code, row in frame.by_group.iterrows()}
    rows: list[dict[str, Any]] = []
    for index, group in enumerate(dimension.groups):
        figures = by_group.get(index)
        if not groups.shown[index] or figures is None:
            rows.append({"key": group.key, "label": group.label, "suppressed": True})
            continue
        rows.append(
            {
                "key": group.key,
                "label": group.label,
                "suppressed": False,
                "count": int(groups.counts[index]),
                **{
                    version: {
                        "waiver_any": share_of(figures[f"{version}:any"]),
                        "waived_mean": round(figure_of(figures[f"{version}:mean"])),
                    }
                    for version in ("active", "draft")
                },
            }
        )
    ratios = frame_ratios(frame, ["active:any", "draft:any"], len(by_group))
    return {
        "key": dimension.key,
        "label": dimension.label,
        "groups": rows,
        "ratios": {
            "active": ratios["active:any"] if has_active else None,
            "draft": ratios["draft:any"],
        },
    }


def dry_run_compute(
    *,
    draft: PerkTerms,
    active: PerkTerms | None,
    at: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The dry-run's report of ``draft`` beside ``active`` (None
    when the draft makes a new perk: every active figure is then 0)."""
    report = progress or (lambda percent, note="": None)
    at = at or timezone.now()
    scorecard = selectors.scorecard_active()
    population = population_load(at=at, progress=report, scores_of=scorecard)
    scored = population_scored(population, scorecard)
    report(70, "deciding")
    requested = max(draft.max_amount, active.max_amount if active is not None else 0, 1)
    count = len(population)
    draft_eligible, draft_waived = perk_waived(population, scored, draft, requested=requested)
    if active is not None:
        active_eligible, active_waived = perk_waived(
            population, scored, active, requested=requested
        )
    else:
        active_eligible = np.zeros(count, dtype=bool)
        active_waived = np.zeros(count, dtype=np.int64)
    bands = []
    for index, code in enumerate(BAND_CODES):
        rows = scored.bands == index
        bands.append(
            {
                "band": code,
                "label": BAND_LABELS[code],
                "count": int(np.count_nonzero(rows)),
                "active": _totals(active_eligible[rows], active_waived[rows], requested),
                "draft": _totals(draft_eligible[rows], draft_waived[rows], requested),
            }
        )
    dimensions = [
        dimension_report(
            group_codes(population, dimension),
            active_waived,
            draft_waived,
            has_active=active is not None,
        )
        for dimension in DIMENSIONS
    ]
    report(95, "reported")
    return {
        "at": at.isoformat(),
        "population": count,
        "currency": draft.currency,
        "requested": requested,
        "perk": {
            "label": draft.label,
            "perk_id": str(draft.perk_id) if draft.perk_id is not None else None,
        },
        "active": {
            "version": active.version if active is not None else None,
            "label": active.label if active is not None else None,
        },
        "draft": {"version": None, "label": draft.label},
        "totals": {
            "active": _totals(active_eligible, active_waived, requested),
            "draft": _totals(draft_eligible, draft_waived, requested),
        },
        "bands": bands,
        "dimensions": dimensions,
    }


def dry_run_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    """The runner of a dry-run: ``run.perk_change`` (a perk draft) against the active
    version of the same perk."""
    if run.perk_change_id is None:
        raise DryRunWithoutDraft("A dry-run needs a perk draft (a proposed perk change).")
    change = PerkChange.objects.select_related("merchant").get(pk=run.perk_change_id)
    draft = perk_terms_of_change(change)
    active = next(
        (
            terms
            for terms in perk_terms_active()
            if change.perk_id is not None and terms.perk_id == change.perk_id
        ),
        None,
    )
    progress(1, "reading the population")
    at = timezone.now()
    result = dry_run_compute(draft=draft, active=active, at=at, progress=progress)
    return AnalysisOutcome(
        result=result,
        population_at=at,
        subject_digest=perk_change_digest(change),
        inputs={
            "perk_id": result["perk"]["perk_id"],
            "active_version": result["active"]["version"],
            "population_at": result["at"],
            "population": result["population"],
        },
    )
