"""Governance's admin.

Who may do what is for superusers alone: the Group admin and the two-factor devices'
admins answer nobody else, whatever permissions a member of staff was given. A member of
staff who could edit a group could add any permission to their own role; one who could
add a device to another account could sign in as that account's owner.

Fairness: audits, backtests, dry-runs and drift checks are stored runs
(``governance.analysis``). Staff ask for one with a button on the scorecard draft's or
the perk change's own page and land on the run's page, which shows its progress and
then its report, with charts (``governance.charts``) and their figures as tables.
Approving a draft goes through ``governance.approvals``: its latest audit is attached,
and a justification is asked for when a ratio is under the floor. The scorecard's and
the perk change's admins are re-registered here as subclasses of scoring's and perks'
own, as the Group admin is: nothing below governance knows of audits. Open notices
(``governance.notices``) head every admin page (``templates/admin/base_site.html``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.approvals import JustificationRequired, audit_max_age, ratio_floor
from common.domain import DomainError
from common.money import format_money
from governance import approvals, charts
from governance.backtests import backtest_refusal
from governance.fitting import fit_request
from governance.models import (
    AnalysisKind,
    AnalysisRun,
    AnalysisStatus,
    Approval,
    StaffNotice,
)
from merchants.perks.admin import PerkChangeAdmin
from merchants.perks.models import PerkChange, PerkChangeStatus
from merchants.perks.versions import perk_change_digest
from scoring import selectors
from scoring.admin import ScorecardAdmin
from scoring.errors import NoActiveScorecard
from scoring.facts import BAND_CODES, BAND_LABELS, FACTS
from scoring.fitting import FitOptions
from scoring.models import Scorecard, ScorecardStatus
from scoring.outcomes import OUTCOME_TEXT
from scoring.scorecard import ScorecardInvalid
from scoring.selectors import scorecard_digest
from wallet.models import User


class SuperusersOnlyMixin:
    """Every permission of the admin is the superuser's, and only theirs."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


class GroupAdmin(SuperusersOnlyMixin, DjangoGroupAdmin):
    pass


class TOTPDeviceSuperusersAdmin(SuperusersOnlyMixin, TOTPDeviceAdmin):
    pass


class StaticDeviceSuperusersAdmin(SuperusersOnlyMixin, StaticDeviceAdmin):
    pass


_REPLACED: tuple[tuple[type[Model], type[admin.ModelAdmin]], ...] = (
    (Group, GroupAdmin),
    (TOTPDevice, TOTPDeviceSuperusersAdmin),
    (StaticDevice, StaticDeviceSuperusersAdmin),
)
for _model, _model_admin in _REPLACED:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)


# --- Fairness: analyses, approvals, notices --------------------------------------------
RED = charts.RED
RATE_LABELS = {
    "good_or_better": "Good or better",
    "waiver_any": "Any waiver",
    "waiver_full": "Full waiver",
}
SUBJECT_RUNS_SHOWN = 20
SCORE_LOWEST, SCORE_HIGHEST = 350, 950
FIT_BINS_FEWEST, FIT_BINS_MOST = 2, 10
FIT_SHARE_LEAST, FIT_SHARE_MOST = 1, 50  # percent of the training rows
DRIFT_HISTORY_SHOWN = 90
REFRESH_SECONDS = 3


def _staff(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # the admin site serves only signed-in staff
        raise PermissionDenied
    return request.user


def _refusal(exc: Exception) -> str:
    """A domain error (or an invalid scorecard) in words for an admin message."""
    if isinstance(exc, DomainError):
        return "; ".join(error.message for error in exc.errors) or exc.detail
    return str(exc)


def run_url(run: AnalysisRun) -> str:
    return reverse("admin:governance_analysisrun_change", args=[run.pk])


def run_subject(run: AnalysisRun) -> str:
    if run.scorecard_id is not None:
        scorecard = cast(Scorecard, run.scorecard)
        return f"Scorecard v{scorecard.version} “{scorecard.name}”"
    if run.perk_change_id is not None:
        return f"Perk change: {run.perk_change}"
    if run.kind == AnalysisKind.FIT:
        return "Outcomes so far (the fit writes a new draft)"
    return "What is live"


def progress_html(run: AnalysisRun) -> SafeString:
    """The run's state: a progress bar while it is queued or running."""
    if run.status in (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING):
        return format_html(
            '<progress max="100" value="{}" aria-label="{}% done">{}%</progress> {} {}',
            run.progress,
            run.progress,
            run.progress,
            run.get_status_display(),
            run.progress_note,
        )
    if run.status == AnalysisStatus.FAILED:
        return format_html("<strong style='color: {}'>Failed</strong>", RED)
    return format_html("{}", run.get_status_display())


def ratio_html(value: float | None, *, floor: float | None = None) -> SafeString:
    """A ratio, red and marked when under the floor."""
    if value is None:
        return format_html("{}", "-")
    floor = ratio_floor() if floor is None else floor
    if value < floor:
        return format_html(
            "<strong class='under-floor' style='color: {}'>{} ▼ under {}</strong>",
            RED,
            f"{value:.2f}",
            f"{floor:g}",
        )
    return format_html("{}", f"{value:.2f}")


# --- The reports, as pages show them ---


def _band_choices() -> list[tuple[str, str]]:
    return [(code, BAND_LABELS[code]) for code in BAND_CODES]


def audit_report(run: AnalysisRun, result: dict[str, Any]) -> dict[str, Any]:
    """An audit's result as the report page shows it: per subject, per dimension, the
    groups' figures as table rows (a suppressed group's cells replaced by one), the
    ratios (red under the floor) and the charts; the factors' points by wealth."""
    floor = float(result.get("floor", ratio_floor()))
    min_size = int(result.get("min_group_size", settings.FAIRNESS_MIN_GROUP_SIZE))
    bands = _band_choices()
    subjects = []
    for s_index, subject in enumerate(result.get("subjects", [])):
        rate_keys = list(subject.get("rate_keys", []))
        has_bands = any(
            group.get("bands")
            for dimension in subject.get("dimensions", [])
            for group in dimension.get("groups", [])
            if not group.get("suppressed")
        )
        headings = [
            "Group",
            "Members",
            "Mean score",
            *([label for _, label in bands] if has_bands else []),
            *(RATE_LABELS.get(key, key) for key in rate_keys),
            "No-show rate",
            "Unpaid-claim rate",
        ]
        dimensions = []
        for d_index, dimension in enumerate(subject.get("dimensions", [])):
            rows = []
            for group in dimension.get("groups", []):
                if group.get("suppressed"):
                    rows.append({"label": group["label"], "suppressed": True, "cells": []})
                    continue
                cells = [
                    str(group.get("count", "-")),
                    "-" if group.get("mean_score") is None else f"{group['mean_score']:.1f}",
                    *(
                        [charts.share(group.get("bands", {}).get(code)) for code, _ in bands]
                        if has_bands
                        else []
                    ),
                    *(charts.share(group.get(key)) for key in rate_keys),
                    charts.share(group.get("no_show_rate")),
                    charts.share(group.get("unpaid_claim_rate")),
                ]
                rows.append({"label": group["label"], "suppressed": False, "cells": cells})
            chart_id = f"run{run.pk}-s{s_index}-d{d_index}"
            dimension_charts = [
                chart
                for key in rate_keys
                if (
                    chart := charts.group_rates_chart(
                        chart_id=f"{chart_id}-{key}",
                        dimension=dimension,
                        rate_key=key,
                        rate_label=RATE_LABELS.get(key, key),
                        floor=floor,
                    )
                )
                is not None
            ]
            if has_bands:
                bands_chart = charts.group_bands_chart(
                    chart_id=f"{chart_id}-bands", dimension=dimension, bands=bands
                )
                if bands_chart is not None:
                    dimension_charts.append(bands_chart)
            errors = dimension.get("error_rate_difference", {})
            dimensions.append(
                {
                    "key": dimension["key"],
                    "label": dimension["label"],
                    "flagged": dimension.get("flagged", False),
                    "rows": rows,
                    "ratios": [
                        (RATE_LABELS.get(key, key), ratio_html(value, floor=floor))
                        for key, value in dimension.get("ratios", {}).items()
                    ],
                    "error_differences": [
                        (label, "-" if errors.get(key) is None else f"{errors[key]:.3f}")
                        for key, label in (
                            ("no_show", "No-shows"),
                            ("unpaid_claim", "Unpaid claims"),
                        )
                    ],
                    "charts": dimension_charts,
                    "columns": len(headings),
                }
            )
        subjects.append(
            {
                "key": subject.get("key"),
                "label": subject.get("label"),
                "draft": subject.get("draft", False),
                "perk_version": subject.get("perk_version"),
                "min_ratio": ratio_html(subject.get("min_ratio"), floor=floor),
                "flagged": subject.get("flagged", False),
                "headings": headings,
                "dimensions": dimensions,
            }
        )
    factors = list(result.get("factor_points_by_wealth", []))
    quintiles = [f"q{n}" for n in range(1, 6)]
    factor_rows = [
        {
            "label": factor.get("label", factor.get("factor")),
            "key": factor.get("factor"),
            "max_points": factor.get("max_points"),
            "means": [
                "-"
                if factor.get("mean_points", {}).get(q) is None
                else f"{factor['mean_points'][q]:.1f}"
                for q in quintiles
            ],
            "ratio": ratio_html(factor.get("ratio"), floor=floor),
            "proxy": factor.get("proxy", False),
        }
        for factor in factors
    ]
    rated = [factor for factor in factors if factor.get("ratio") is not None]
    factors_chart = (
        charts.threshold_bars(
            chart_id=f"run{run.pk}-factors",
            title="Points in the lowest wealth fifth over the highest, per factor",
            labels=[factor.get("label", factor.get("factor")) for factor in rated],
            values=[float(factor["ratio"]) for factor in rated],
            line=floor,
            line_label=f"floor {floor:g}",
            red_under=True,
            axis_label="Mean points, lowest fifth / highest fifth",
            headings=("Factor", "Ratio"),
        )
        if rated
        else None
    )
    return {
        "floor": floor,
        "min_group_size": min_size,
        "population": result.get("population"),
        "at": result.get("at"),
        "scorecard": result.get("scorecard") or {},
        "outcome_window_days": result.get("outcome_window_days"),
        "min_ratio": ratio_html(result.get("min_ratio"), floor=floor),
        "flagged": result.get("flagged", False),
        "subjects": subjects,
        "factor_rows": factor_rows,
        "proxies": [row["label"] for row in factor_rows if row["proxy"]],
        "factors_chart": factors_chart,
    }


def _totals_cells(totals: dict[str, Any], currency: str) -> list[str]:
    return [
        str(totals.get("eligible", "-")),
        str(totals.get("waived_any", "-")),
        str(totals.get("waived_full", "-")),
        format_money(int(totals.get("waived_total") or 0), currency),
    ]


def dry_run_report(run: AnalysisRun, result: dict[str, Any]) -> dict[str, Any]:
    """A dry-run's result as its page shows it: totals, bands and groups, the active
    version beside the draft."""
    currency = result.get("currency") or settings.WALLET_CURRENCY
    floor = ratio_floor()
    totals = result.get("totals", {})
    bands = list(result.get("bands", []))
    band_rows = [
        {
            "label": band.get("label") or BAND_LABELS.get(band.get("band", ""), band.get("band")),
            "count": band.get("count"),
            "active": _totals_cells(band.get("active", {}), currency),
            "draft": _totals_cells(band.get("draft", {}), currency),
        }
        for band in bands
    ]
    dimensions = []
    for d_index, dimension in enumerate(result.get("dimensions", [])):
        rows = []
        shown = []
        for group in dimension.get("groups", []):
            if group.get("suppressed"):
                rows.append({"label": group["label"], "suppressed": True, "cells": []})
                continue
            active, draft = group.get("active", {}), group.get("draft", {})
            rows.append(
                {
                    "label": group["label"],
                    "suppressed": False,
                    "cells": [
                        str(group.get("count", "-")),
                        charts.share(active.get("waiver_any")),
                        charts.share(draft.get("waiver_any")),
                        format_money(int(active.get("waived_mean") or 0), currency),
                        format_money(int(draft.get("waived_mean") or 0), currency),
                    ],
                }
            )
            shown.append(group)
        ratios = dimension.get("ratios", {})
        chart = (
            charts.compare_bars_chart(
                chart_id=f"run{run.pk}-d{d_index}",
                title=f"Share with any waiver by {dimension['label'].lower()}",
                labels=[group["label"] for group in shown],
                first=[float(group.get("active", {}).get("waiver_any") or 0) for group in shown],
                second=[float(group.get("draft", {}).get("waiver_any") or 0) for group in shown],
                names=("Active version", "Draft"),
                axis_label="Share with any waiver",
                value_format="{:.1%}",
            )
            if shown
            else None
        )
        dimensions.append(
            {
                "label": dimension["label"],
                "rows": rows,
                "ratio_active": ratio_html(ratios.get("active"), floor=floor),
                "ratio_draft": ratio_html(ratios.get("draft"), floor=floor),
                "chart": chart,
            }
        )
    bands_chart = (
        charts.compare_bars_chart(
            chart_id=f"run{run.pk}-bands",
            title="Eligible accounts by band",
            labels=[row["label"] for row in band_rows],
            first=[float(band.get("active", {}).get("eligible") or 0) for band in bands],
            second=[float(band.get("draft", {}).get("eligible") or 0) for band in bands],
            names=("Active version", "Draft"),
            axis_label="Eligible accounts",
        )
        if bands
        else None
    )
    return {
        "population": result.get("population"),
        "at": result.get("at"),
        "perk": result.get("perk", {}),
        "active_version": (result.get("active") or {}).get("version"),
        "totals_active": _totals_cells(totals.get("active", {}), currency),
        "totals_draft": _totals_cells(totals.get("draft", {}), currency),
        "band_rows": band_rows,
        "bands_chart": bands_chart,
        "dimensions": dimensions,
    }


def backtest_report(run: AnalysisRun, result: dict[str, Any]) -> dict[str, Any]:
    """A stored backtest (``scoring.backtest.Backtest`` as a dict) as scoring's own
    backtest page shows it, with the change per line and a chart of the bands."""

    def with_difference(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "difference": row["candidate"] - row["active"]} for row in rows]

    bands = with_difference(list(result.get("bands", [])))
    return {
        **result,
        "bands": bands,
        "buckets": with_difference(list(result.get("buckets", []))),
        "band_labels": result.get("band_labels") or [BAND_LABELS[code] for code in BAND_CODES],
        "chart": charts.compare_bars_chart(
            chart_id=f"run{run.pk}-bands",
            title="Accounts per band",
            labels=[row["label"] for row in bands],
            first=[float(row["active"]) for row in bands],
            second=[float(row["candidate"]) for row in bands],
            names=(
                f"v{result.get('active_version')} (active)",
                f"v{result.get('candidate_version')}",
            ),
            axis_label="Accounts",
        )
        if bands
        else None,
    }


def drift_report(run: AnalysisRun, result: dict[str, Any]) -> dict[str, Any]:
    """A drift check's result: the PSI of the score and of each factor (red over the
    limit), a chart of them, and each distribution's bins."""
    limit = float(result.get("limit", settings.DRIFT_PSI_ALERT))
    score = result.get("score") or {}
    distributions = [
        {"label": "Score", "psi": score.get("psi"), "bins": score.get("bins", [])},
        *(
            {"label": factor.get("label", factor.get("key")), **factor}
            for factor in result.get("factors", [])
        ),
    ]
    rows = [
        {
            "label": item["label"],
            "psi": "-" if item.get("psi") is None else f"{item['psi']:.3f}",
            "over": item.get("psi") is not None and item["psi"] > limit,
            "bins": [
                (b.get("label"), charts.share(b.get("baseline")), charts.share(b.get("current")))
                for b in item.get("bins", [])
            ],
        }
        for item in distributions
    ]
    measured = [
        (item["label"], float(item["psi"])) for item in distributions if item.get("psi") is not None
    ]
    return {
        **result,
        "limit": limit,
        "rows": rows,
        "chart": charts.psi_chart(chart_id=f"run{run.pk}-psi", items=measured, limit=limit)
        if measured
        else None,
    }


PSI_STABLE = 0.1
PSI_LARGE = 0.25
IV_READINGS = ((0.02, "useless"), (0.1, "weak"), (0.3, "medium"))
"""Information value under each bound reads as its word; from 0.3 on, "strong"."""
METRICS_SHOWN = (
    ("train", "Draft, training rows"),
    ("test", "Draft, test rows"),
    ("active_test", "Active version, test rows"),
)
FACT_UNITS = {"percent": "%", "days": " days"}


def psi_words(value: float) -> str:
    """How a population stability index reads."""
    if value < PSI_STABLE:
        return (
            "stable: the draft spreads the test rows over the bands much as the active version does"
        )
    if value <= PSI_LARGE:
        return "some shift: the draft moves a fair share of people to other bands"
    return "a large shift: the draft puts many people in other bands than the active version"


def iv_words(value: float) -> str:
    """How a fact's information value reads, by the usual rule of thumb."""
    for bound, word in IV_READINGS:
        if value < bound:
            return word
    return "strong"


def _day(moment: str | None) -> str:
    """An ISO 8601 moment of a report as its date."""
    if not moment:
        return "-"
    try:
        return datetime.fromisoformat(moment).date().isoformat()
    except ValueError:
        return moment


def _moment(moment: str | None) -> str:
    """An ISO 8601 moment of a report to the minute, in UTC."""
    if not moment:
        return "-"
    try:
        return f"{datetime.fromisoformat(moment).astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return moment


def _number(value: float | None, places: int = 3) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def bin_label(fact_key: str, start: int | None, end: int | None) -> str:
    """A fitted bin in words: "no value" for the missing bin, else the fact's values it
    holds ("0", "1 to 3", "4 or more", "80 to 100%")."""
    if start is None:
        return "no value"
    fact = FACTS.get(fact_key)
    unit = FACT_UNITS.get(fact.kind, "") if fact else ""
    last = end - 1 if end is not None else (fact.maximum if fact else None)
    if last is None:
        return f"{start}{unit} or more"
    if last <= start:
        return f"{start}{unit}"
    return f"{start} to {last}{unit}"


def _rate_cells(row: dict[str, Any]) -> tuple[str, ...]:
    return (
        f"{row.get('low', '-')} to {row.get('high', '-')}",
        str(row.get("count", "-")),
        str(row.get("bad", "-")),
        charts.share(row.get("bad_rate")) if row.get("count") else "-",
    )


def fit_report(run: AnalysisRun, result: dict[str, Any]) -> dict[str, Any]:
    """A fit's result (``governance.fitting.FitReport``) as its page shows it: the
    outcome, the periods, the metrics of the draft and of the active version, the
    stability of the bands, the charts (ROC, bad rate by decile, each fact's bins) with
    their figures, the bands, the information value per fact, what was dropped, and the
    draft it wrote with its audit and backtest."""
    metrics = result.get("metrics", {})
    metric_rows = [
        {
            "label": label,
            "count": metrics[key].get("count"),
            "bad": metrics[key].get("bad"),
            "bad_rate": charts.share(metrics[key].get("bad_rate")),
            "auc": _number(metrics[key].get("auc")),
            "gini": _number(metrics[key].get("gini")),
            "ks": _number(metrics[key].get("ks")),
        }
        for key, label in METRICS_SHOWN
        if key in metrics
    ]
    periods = [
        {
            "label": label,
            "count": period.get("count"),
            "bad": period.get("bad"),
            "bad_rate": charts.share(period["bad"] / period["count"])
            if period.get("count")
            else "-",
            "accounts": period.get("accounts"),
            "taken_from": _day(period.get("taken_from")),
            "taken_until": _day(period.get("taken_until")),
        }
        for key, label in (("train", "Training (older)"), ("test", "Test (newest)"))
        if (period := result.get(key))
    ]
    active_version = result.get("active_version")
    roc = result.get("roc", {})
    roc_chart = charts.roc_chart(
        chart_id=f"run{run.pk}-roc",
        curves=[
            ("Draft", roc.get("draft", []), metrics.get("test", {}).get("auc")),
            (
                f"Active version v{active_version}" if active_version else "Active version",
                roc.get("active", []),
                metrics.get("active_test", {}).get("auc"),
            ),
        ],
    )
    deciles = list(result.get("deciles", []))
    falls = bool(result.get("deciles_fall"))
    rises = _rises(deciles)
    deciles_chart = (
        charts.rate_columns_chart(
            chart_id=f"run{run.pk}-deciles",
            title="Bad rate by score decile on the test rows: "
            + (
                "it falls as the score rises"
                if falls
                else "it does not always fall as the score rises"
            ),
            desc="The test rows in ten slices by the draft's score, lowest scores on the left, "
            "and the share of each with a bad outcome (rows with the same score stay in one "
            "slice, so a slice may hold more than a tenth, or none). "
            + (
                "The bad rate never rises from one slice to the next."
                if falls
                else "In red, a slice whose bad rate is higher than the slice below it."
            ),
            labels=[str(row.get("label")) for row in deciles],
            rates=[float(row.get("bad_rate") or 0.0) for row in deciles],
            axis_label="Bad rate",
            slice_label="Score decile (lowest scores first)",
            headings=("Decile", "Scores", "Rows", "Bad", "Bad rate"),
            rows=[(str(row.get("label")), *_rate_cells(row)) for row in deciles],
            red=rises,
        )
        if deciles
        else None
    )
    bands = [
        {
            "label": BAND_LABELS.get(str(row.get("label")), row.get("label")),
            "cells": _rate_cells(row),
        }
        for row in result.get("bands", [])
    ]
    factors = []
    for index, factor in enumerate(result.get("factors", [])):
        bins = list(factor.get("bins", []))
        labels = [bin_label(factor.get("fact", ""), b.get("start"), b.get("end")) for b in bins]
        factors.append(
            {
                "fact": factor.get("fact"),
                "label": factor.get("label"),
                "iv": _number(factor.get("iv")),
                "iv_words": iv_words(float(factor.get("iv") or 0.0)),
                "coefficient": _number(factor.get("coefficient")),
                "chart": charts.bins_chart(
                    chart_id=f"run{run.pk}-bins{index}",
                    title=f"{factor.get('label')}: bad rate and points per bin",
                    labels=labels,
                    bad_rates=[float(b.get("bad_rate") or 0.0) for b in bins],
                    points=[int(b.get("points") or 0) for b in bins],
                    headings=("Bin", "Rows", "Bad", "Bad rate", "Weight of evidence", "Points"),
                    rows=[
                        (
                            label,
                            str(b.get("count", "-")),
                            str(b.get("bad", "-")),
                            charts.share(b.get("bad_rate")),
                            _number(b.get("woe")),
                            str(b.get("points", "-")),
                        )
                        for label, b in zip(labels, bins, strict=True)
                    ],
                )
                if bins
                else None,
            }
        )
    dropped = [
        {
            "label": item.get("label") or item.get("fact"),
            "iv": _number(item.get("iv")),
            "iv_words": iv_words(float(item.get("iv") or 0.0)),
            "why": item.get("why", ""),
        }
        for item in result.get("dropped", [])
    ]
    psi = result.get("psi")
    return {
        "outcome": result.get("outcome") or OUTCOME_TEXT,
        "as_of": _moment(result.get("as_of")),
        "periods": periods,
        "metric_rows": metric_rows,
        "active_version": active_version,
        "base_points": result.get("base_points"),
        "psi": _number(psi),
        "psi_words": psi_words(float(psi)) if psi is not None else "",
        "psi_stable": PSI_STABLE,
        "psi_large": PSI_LARGE,
        "roc_chart": roc_chart,
        "deciles_chart": deciles_chart,
        "deciles_fall": falls,
        "bands": bands,
        "factors": factors,
        "dropped": dropped,
        "draft_url": reverse("admin:scoring_scorecard_change", args=[result["draft_id"]])
        if result.get("draft_id")
        else "",
        "draft_id": result.get("draft_id"),
        "draft_name": _draft_name(run, result.get("draft_id")),
        "audit_url": reverse("admin:governance_analysisrun_change", args=[result["audit_run_id"]])
        if result.get("audit_run_id")
        else "",
        "audit_run_id": result.get("audit_run_id"),
        "backtest_url": reverse(
            "admin:governance_analysisrun_change", args=[result["backtest_run_id"]]
        )
        if result.get("backtest_run_id")
        else "",
        "backtest_run_id": result.get("backtest_run_id"),
    }


def _draft_name(run: AnalysisRun, draft_id: int | None) -> str:
    """The draft a fit wrote, by version and name (it is the run's scorecard)."""
    if draft_id is None or run.scorecard_id != draft_id:
        return f"#{draft_id}" if draft_id is not None else ""
    scorecard = cast(Scorecard, run.scorecard)
    return f"v{scorecard.version} “{scorecard.name}”"


def _rises(rows: list[dict[str, Any]]) -> list[bool]:
    """Whether each slice's bad rate is higher than that of the nearest slice below it
    with rows (an empty slice, of tied scores, is skipped)."""
    marks = []
    below: float | None = None
    for row in rows:
        rate = float(row.get("bad_rate") or 0.0)
        marks.append(bool(row.get("count")) and below is not None and rate > below)
        if row.get("count"):
            below = rate
    return marks


def _options_words(
    options: dict[str, Any], *, odds_used: float | None = None
) -> list[tuple[str, str]]:
    """A fit's options as the page lists them (also those of a queued fit's inputs);
    ``odds_used``: the base odds a finished fit scaled its points to."""
    words = []
    if options.get("pdo") is not None:
        words.append(("Points to double the odds", f"{float(options['pdo']):g}"))
    if options.get("base_score") is not None:
        stated = options.get("base_odds")
        if stated is not None:
            odds = f"odds of {float(stated):g} good to 1 bad"
        elif odds_used is not None:
            odds = f"the training rows' own odds, {odds_used:.3g} good to 1 bad"
        else:
            odds = "the training rows' own odds of good to bad"
        words.append(("Base", f"{int(options['base_score'])} points at {odds}"))
    if options.get("max_bins") is not None:
        words.append(("Most bins per fact", str(int(options["max_bins"]))))
    if options.get("min_bin_share") is not None:
        words.append(("Least share of rows per bin", charts.share(float(options["min_bin_share"]))))
    if options.get("test_share") is not None:
        words.append(("Test period", f"the newest {charts.share(float(options['test_share']))}"))
    return words


REPORTS = {
    AnalysisKind.AUDIT: audit_report,
    AnalysisKind.DRY_RUN: dry_run_report,
    AnalysisKind.BACKTEST: backtest_report,
    AnalysisKind.DRIFT: drift_report,
    AnalysisKind.FIT: fit_report,
}


class FlaggedFilter(admin.SimpleListFilter):
    title = "flagged"
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Flagged (a ratio under the floor, drift over its limit)")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AnalysisRun]
    ) -> QuerySet[AnalysisRun]:
        return queryset.filter(flagged=True) if self.value() == "yes" else queryset


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    """Every audit, backtest, dry-run and drift check, newest first: a list, and each
    run's page (its progress, then its report). Runs are asked for on the subject's own
    page; nobody edits or deletes one here."""

    list_display = (
        "id",
        "kind",
        "subject",
        "state",
        "flag",
        "min_ratio_shown",
        "created_at",
        "requested_by",
    )
    list_display_links = ("id", "kind")
    list_filter = ("kind", "status", FlaggedFilter)
    list_select_related = ("scorecard", "perk_change", "perk_change__merchant", "requested_by")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Subject")
    def subject(self, obj: AnalysisRun) -> str:
        return run_subject(obj)

    @admin.display(description="Status", ordering="status")
    def state(self, obj: AnalysisRun) -> SafeString:
        return progress_html(obj)

    @admin.display(description="Flagged", ordering="flagged")
    def flag(self, obj: AnalysisRun) -> SafeString:
        if obj.flagged:
            return format_html("<strong style='color: {}'>{}</strong>", RED, "Flagged")
        return format_html("{}", "")

    @admin.display(description="Lowest ratio", ordering="min_ratio")
    def min_ratio_shown(self, obj: AnalysisRun) -> SafeString:
        return ratio_html(obj.min_ratio)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "drift/",
                self.admin_site.admin_view(self.drift_history_view),
                name="governance_analysisrun_drift",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The run's page: progress while it runs (the page refreshes itself), then its
        report."""
        run = self.get_object(request, unquote(object_id))
        if run is None:
            raise Http404("No such analysis.")
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        report: dict[str, Any] | None = None
        if run.status == AnalysisStatus.DONE and run.result is not None:
            report = REPORTS[run.kind](run, run.result)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{run.get_kind_display()} #{run.pk}",
            "run": run,
            "subject": run_subject(run),
            "subject_url": _subject_url(run),
            "state": progress_html(run),
            "in_progress": run.status in (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING),
            "refresh_seconds": REFRESH_SECONDS,
            "report": report,
            "min_ratio": ratio_html(run.min_ratio),
            "inputs": _inputs_words(run),
        }
        return TemplateResponse(request, f"admin/governance/analysisrun/{run.kind}.html", context)

    def drift_history_view(self, request: HttpRequest) -> HttpResponse:
        """The nightly drift checks over time, with a chart, and the latest one's
        figures."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        runs = list(
            AnalysisRun.objects.filter(kind=AnalysisKind.DRIFT, status=AnalysisStatus.DONE)
            .exclude(finished_at=None)
            .order_by("-finished_at")[:DRIFT_HISTORY_SHOWN]
        )[::-1]
        points = [
            (run.finished_at, float(run.result["max_psi"]))
            for run in runs
            if run.finished_at is not None
            and isinstance(run.result, dict)
            and run.result.get("max_psi") is not None
        ]
        limit = float(settings.DRIFT_PSI_ALERT)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Drift of the score since the active version went live",
            "runs": [
                {"run": run, "url": run_url(run), "max_psi": (run.result or {}).get("max_psi")}
                for run in reversed(runs)
            ],
            "limit": limit,
            "chart": charts.drift_history_chart(
                chart_id="drift-history", points=points, limit=limit
            ),
            "latest": drift_report(runs[-1], runs[-1].result) if runs and runs[-1].result else None,
            "latest_run": runs[-1] if runs else None,
        }
        return TemplateResponse(request, "admin/governance/analysisrun/drift_history.html", context)


def _inputs_words(run: AnalysisRun) -> list[tuple[str, str]] | None:
    """A fit's inputs in words (its facts by label, its options); None for the other
    kinds, whose page lists their inputs as they are."""
    if run.kind != AnalysisKind.FIT:
        return None
    inputs = run.inputs or {}
    facts = [FACTS[key].label if key in FACTS else str(key) for key in inputs.get("facts", [])]
    used = (run.result or {}).get("base_odds")
    options = _options_words(inputs.get("options") or {}, odds_used=used)
    words = [("Facts", ", ".join(facts) or "-"), *options]
    if inputs.get("active_version") is not None:
        words.append(("Compared with", f"the active version v{inputs['active_version']}"))
    return words


def _subject_url(run: AnalysisRun) -> str:
    if run.scorecard_id is not None:
        return reverse("admin:scoring_scorecard_change", args=[run.scorecard_id])
    if run.perk_change_id is not None:
        return reverse("admin:perks_perkchange_change", args=[run.perk_change_id])
    return ""


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    """Who approved which scorecard or perk version, with the audit it rested on and,
    when a ratio was under the floor, their justification. Written once, by the
    approval itself."""

    list_display = (
        "approved_at",
        "subject",
        "what",
        "approved_by",
        "ratio",
        "audit_link",
        "justification",
    )
    list_filter = ("subject",)
    list_select_related = (
        "scorecard",
        "perk_change",
        "perk_change__merchant",
        "approved_by",
        "audit",
    )
    readonly_fields = (
        "subject",
        "scorecard",
        "perk_change",
        "audit_link",
        "approved_by",
        "approved_at",
        "ratio",
        "justification",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Approved")
    def what(self, obj: Approval) -> str:
        if obj.scorecard is not None:
            return f"Scorecard v{obj.scorecard.version} “{obj.scorecard.name}”"
        return str(obj.perk_change)

    @admin.display(description="Lowest ratio", ordering="min_ratio")
    def ratio(self, obj: Approval) -> SafeString:
        return ratio_html(obj.min_ratio)

    @admin.display(description="Audit")
    def audit_link(self, obj: Approval) -> SafeString:
        return format_html('<a href="{}">Audit #{}</a>', run_url(obj.audit), obj.audit_id)


@admin.register(StaffNotice)
class StaffNoticeAdmin(admin.ModelAdmin):
    """What staff must look at (shown at the top of every admin page while open):
    raised and resolved by the nightly audit and drift check."""

    list_display = ("raised_at", "key", "message", "run_link", "resolved_at")
    list_filter = ("key",)
    list_select_related = ("run",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Report")
    def run_link(self, obj: StaffNotice) -> SafeString:
        if obj.run_id is None:
            return format_html("{}", "-")
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:governance_analysisrun_change", args=[obj.run_id]),
            obj.run_id,
        )


# --- The subjects' pages: buttons, runs, approval ---


def _active_facts() -> list[str]:
    """The facts the active scorecard scores (all scorable facts when none is active)."""
    try:
        definition = selectors.scorecard_active().definition
    except NoActiveScorecard:
        return [key for key, _ in _scorable_facts()]
    return [str(factor["fact"]) for factor in definition.get("factors", [])]


class ApproveForm(forms.Form):
    justification = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="Required when a ratio of the audit is under the floor: why this should "
        "go live anyway. Kept with the approval and published on the transparency page.",
    )

    def __init__(
        self, *args: Any, needs_justification: bool, with_note: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["justification"].required = needs_justification
        if with_note:
            self.fields["note"] = forms.CharField(
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                help_text="Recorded with the decision.",
            )


def _scorable_facts() -> list[tuple[str, str]]:
    return [(key, fact.label) for key, fact in FACTS.items() if fact.scorable]


class FitForm(forms.Form):
    """What a fit from outcomes is asked for with: the facts it may score and how its
    points are scaled and its bins cut (``scoring.fitting.FitOptions``). Bad values are
    the form's errors: no run is asked for until all are right."""

    facts = forms.MultipleChoiceField(
        choices=_scorable_facts,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one fact for the draft to score."},
        help_text="The facts the draft may give points for. A fact that does not separate "
        "good outcomes from bad ones, or whose points would fall as it gets better next to "
        "the others, is left out, and the report says why. Starts with the active "
        "scorecard's facts.",
    )
    pdo = forms.FloatField(
        label="Points to double the odds",
        initial=40,
        help_text="How many more points mean twice the odds of a good outcome: with 40, "
        "someone 40 points higher is half as likely to have a bad one. Larger spreads "
        "the scores wider.",
    )
    base_score = forms.IntegerField(
        label="Base score",
        initial=600,
        help_text="The score, from 350 to 950, that stands for the base odds below.",
    )
    base_odds = forms.FloatField(
        label="Base odds of good to bad",
        required=False,
        help_text="The odds at the base score: 9 means 9 good outcomes for each bad one "
        "(one in ten bad). Leave it empty for the training rows' own odds: the base score "
        "then stands for the average risk, whatever share of outcomes are bad.",
    )
    max_bins = forms.IntegerField(
        label="Most bins per fact",
        initial=5,
        help_text="Each fact's values are cut into at most this many ranges (2 to 10), each "
        "earning its own points. Fewer bins are simpler to explain; more follow the data "
        "closer.",
    )
    min_bin_share = forms.FloatField(
        label="Least share of rows per bin (%)",
        initial=5,
        help_text="Every range must hold at least this percentage of the training rows "
        "(1 to 50), so that no points rest on a handful of people.",
    )

    def clean_pdo(self) -> float:
        value = float(self.cleaned_data["pdo"])
        if value <= 0:
            raise forms.ValidationError("Points to double the odds must be more than 0.")
        return value

    def clean_base_score(self) -> int:
        value = int(self.cleaned_data["base_score"])
        if not SCORE_LOWEST <= value <= SCORE_HIGHEST:
            raise forms.ValidationError(
                f"The base score must be from {SCORE_LOWEST} to {SCORE_HIGHEST}."
            )
        return value

    def clean_base_odds(self) -> float | None:
        if self.cleaned_data["base_odds"] is None:
            return None
        value = float(self.cleaned_data["base_odds"])
        if value <= 0:
            raise forms.ValidationError("The base odds must be more than 0.")
        return value

    def clean_max_bins(self) -> int:
        value = int(self.cleaned_data["max_bins"])
        if not FIT_BINS_FEWEST <= value <= FIT_BINS_MOST:
            raise forms.ValidationError(
                f"Bins per fact must be from {FIT_BINS_FEWEST} to {FIT_BINS_MOST}."
            )
        return value

    def clean_min_bin_share(self) -> float:
        value = float(self.cleaned_data["min_bin_share"])
        if not FIT_SHARE_LEAST <= value <= FIT_SHARE_MOST:
            raise forms.ValidationError(
                f"The least share per bin must be from {FIT_SHARE_LEAST}% to {FIT_SHARE_MOST}%."
            )
        return value

    def fit_options(self) -> FitOptions:
        data = self.cleaned_data
        return FitOptions(
            pdo=data["pdo"],
            base_score=data["base_score"],
            base_odds=data["base_odds"],
            max_bins=data["max_bins"],
            min_bin_share=data["min_bin_share"] / 100,
        )

    def chosen_facts(self) -> tuple[str, ...]:
        """The facts chosen, in the registry's order."""
        chosen = set(self.cleaned_data["facts"])
        return tuple(key for key in FACTS if key in chosen)


def audit_summary(run: AnalysisRun | None, *, digest: str) -> dict[str, Any] | None:
    """The latest audit as the approval box and page show it: how old, its lowest
    ratio (red under the floor), and whether it can be used (of this definition, fresh)."""
    if run is None:
        return None
    at = approvals.audited_at(run)
    age = timezone.now() - at
    of_this = run.subject_digest == digest
    fresh = age <= audit_max_age()
    return {
        "run": run,
        "url": run_url(run),
        "at": at,
        "age": _age_words(age),
        "min_ratio": ratio_html(run.min_ratio),
        "under_floor": run.min_ratio is not None and run.min_ratio < ratio_floor(),
        "of_this": of_this,
        "fresh": fresh,
        "usable": of_this and fresh,
    }


def _age_words(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class GovernedSubjectMixin(_ModelAdmin):
    """What the scorecard's and the perk change's pages gain: buttons that ask for the
    analyses (each a POST that queues a run and goes to its page), the runs of the
    subject, and the approval with its audit."""

    governance_kinds: tuple[tuple[str, str], ...] = ()
    governance_subject_field = ""
    # Whether the subject's own change form has a ``governance_actions`` block (inside
    # the form) for the section; otherwise the section heads the page.
    governance_in_form = False

    def governance_request(self, *, kind: str, obj: Any, by: User) -> AnalysisRun:
        raise NotImplementedError

    def governance_approve(self, *, obj: Any, by: User, data: dict[str, Any]) -> Approval:
        raise NotImplementedError

    def governance_digest(self, obj: Any) -> str:
        raise NotImplementedError

    def governance_can_approve(self, request: HttpRequest, obj: Any) -> bool:
        raise NotImplementedError

    def governance_kinds_for(self, obj: Any) -> list[tuple[str, str]]:
        return list(self.governance_kinds)

    def _governance_url(self, name: str, *args: Any) -> str:
        opts = self.opts
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)

    def governance_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        if obj is None or obj.pk is None:
            return {}
        runs = AnalysisRun.objects.filter(**{self.governance_subject_field: obj}).select_related(
            "requested_by"
        )[:SUBJECT_RUNS_SHOWN]
        may_request = request.user.has_perm(approvals.REQUEST_PERMISSION)
        latest = approvals.audit_latest(**{self.governance_subject_field: obj})
        return {
            "governance_in_form": self.governance_in_form,
            "governance": {
                "buttons": [
                    {"label": label, "url": self._governance_url("analyse", obj.pk, kind)}
                    for kind, label in self.governance_kinds_for(obj)
                ]
                if may_request
                else [],
                "runs": [
                    {
                        "run": run,
                        "url": run_url(run),
                        "state": progress_html(run),
                        "min_ratio": ratio_html(run.min_ratio),
                    }
                    for run in runs
                ],
                "audit": audit_summary(latest, digest=self.governance_digest(obj)),
                "approve_url": self._governance_url("approve_audited", obj.pk)
                if self.governance_can_approve(request, obj)
                else "",
            },
        }

    def governance_parent_template(self, parent: type[admin.ModelAdmin]) -> Any:
        opts = self.opts
        names: list[str] = (
            [str(parent.change_form_template)]
            if parent.change_form_template
            else [
                f"admin/{opts.app_label}/{opts.model_name}/change_form.html",
                f"admin/{opts.app_label}/change_form.html",
                "admin/change_form.html",
            ]
        )
        return select_template(names)

    governed_admin: type[admin.ModelAdmin]
    """The subject's own admin, whose change form this one extends."""

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        context.update(self.governance_context(request, obj))
        context["governance_parent_template"] = self.governance_parent_template(self.governed_admin)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        """The subject's analyses and its approval with the audit, before the admin's own."""
        opts = self.opts
        return [
            path(
                "<path:object_id>/analyse/<str:kind>/",
                self.admin_site.admin_view(self.analyse_view),
                name=f"{opts.app_label}_{opts.model_name}_analyse",
            ),
            path(
                "<path:object_id>/approve-audited/",
                self.admin_site.admin_view(self.approve_audited_view),
                name=f"{opts.app_label}_{opts.model_name}_approve_audited",
            ),
            *super().get_urls(),
        ]

    def analyse_view(self, request: HttpRequest, object_id: str, kind: str) -> HttpResponse:
        """Queue a run of ``kind`` about the subject and go to its page (POST only)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("Not found.")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        back = HttpResponseRedirect(self._governance_url("change", obj.pk))
        if request.method != "POST":
            return back
        try:
            run = self.governance_request(kind=kind, obj=obj, by=_staff(request))
        except DomainError as exc:
            self.message_user(request, f"Nothing was run: {_refusal(exc)}", messages.ERROR)
            return back
        self.message_user(
            request,
            f"{run.get_kind_display()} #{run.pk} is queued; this page shows its progress, "
            "then its report.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(run_url(run))

    def approve_audited_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        raise NotImplementedError  # each subject's admin says what approving it means

    def audited_approve_view(
        self, request: HttpRequest, object_id: str, *, title: str, extra: dict[str, Any]
    ) -> HttpResponse:
        """The approval page: the latest audit (how old, its lowest ratio, red under the
        floor), a justification (required under the floor), then the approving service."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("Not found.")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        back_url = self._governance_url("change", obj.pk)
        summary = audit_summary(
            approvals.audit_latest(**{self.governance_subject_field: obj}),
            digest=self.governance_digest(obj),
        )
        needs = bool(summary and summary["under_floor"])
        with_note = self.governance_subject_field == "perk_change"
        form = ApproveForm(
            request.POST if request.method == "POST" else None,
            needs_justification=needs,
            with_note=with_note,
        )
        if form.is_valid():
            try:
                approval = self.governance_approve(
                    obj=obj, by=_staff(request), data=form.cleaned_data
                )
            except JustificationRequired as exc:
                form.add_error("justification", exc.detail)
            except (DomainError, ScorecardInvalid) as exc:
                self.message_user(request, f"Not approved: {_refusal(exc)}", messages.ERROR)
                return HttpResponseRedirect(back_url)
            else:
                self.message_user(
                    request, self.governance_approved_message(approval), messages.SUCCESS
                )
                return HttpResponseRedirect(back_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "original": obj,
            "audit": summary,
            "needs_justification": needs,
            "form": form,
            "back_url": back_url,
            "floor": ratio_floor(),
            "max_age_hours": settings.FAIRNESS_AUDIT_MAX_AGE_HOURS,
            **extra,
        }
        return TemplateResponse(request, "admin/governance/approve.html", context)

    def governance_approved_message(self, approval: Approval) -> str:
        raise NotImplementedError


class GovernedScorecardAdmin(GovernedSubjectMixin, ScorecardAdmin):
    governed_admin = ScorecardAdmin
    """Scoring's scorecard admin, with the analyses and the audited approval on the
    draft's page (its ``governance_actions`` block); the list's backtest action queues a
    stored backtest too. There is no approve action: approving needs the approval page."""

    change_form_template = "admin/governance/subject_change_form.html"
    # Scoring's scorecard page keeps a place for the section in its form.
    governance_in_form = True
    governance_kinds = (
        (AnalysisKind.BACKTEST, "Backtest against the active version"),
        (AnalysisKind.AUDIT, "Audit for fairness"),
    )
    governance_subject_field = "scorecard"
    change_list_template = "admin/governance/scorecard_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        return [
            path(
                "fit/",
                self.admin_site.admin_view(self.fit_view),
                name=f"{opts.app_label}_{opts.model_name}_fit",
            ),
            *super().get_urls(),
        ]

    def may_fit(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) and self.has_request_analysis_permission(request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The list, with "Fit a draft from outcomes" for who may ask for a fit."""
        fit_url = self._governance_url("fit") if self.may_fit(request) else ""
        return super().changelist_view(request, {**(extra_context or {}), "fit_url": fit_url})

    def fit_view(self, request: HttpRequest) -> HttpResponse:
        """The fit's form: the facts (the active version's to start with) and the
        options; a valid POST queues the fit and goes to its run's page."""
        if not self.may_fit(request):
            raise PermissionDenied
        if request.method == "POST":
            form = FitForm(request.POST)
        else:
            form = FitForm(initial={"facts": _active_facts()})
        if form.is_valid():
            try:
                run = fit_request(
                    by=_staff(request), facts=form.chosen_facts(), options=form.fit_options()
                )
            except (ValueError, DomainError) as exc:
                form.add_error(None, f"Nothing was run: {_refusal(exc)}")
            else:
                self.message_user(
                    request,
                    f"{run.get_kind_display()} #{run.pk} is queued; this page shows its "
                    "progress, then its report and the draft it wrote.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(run_url(run))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Fit a draft from outcomes",
            "form": form,
            "outcome": OUTCOME_TEXT,
            "back_url": self._governance_url("changelist"),
        }
        return TemplateResponse(request, "admin/governance/fit_form.html", context)

    def governance_kinds_for(self, obj: Scorecard) -> list[tuple[str, str]]:
        # Only a draft is backtested: the active version is what it is compared with.
        return [
            (kind, label)
            for kind, label in self.governance_kinds
            if not (kind == AnalysisKind.BACKTEST and backtest_refusal(obj) is not None)
        ]

    def governance_request(self, *, kind: str, obj: Scorecard, by: User) -> AnalysisRun:
        return approvals.scorecard_analysis_request(kind=kind, scorecard=obj, by=by)

    def governance_digest(self, obj: Scorecard) -> str:
        return scorecard_digest(obj)

    def governance_can_approve(self, request: HttpRequest, obj: Scorecard) -> bool:
        return (
            obj.status == ScorecardStatus.DRAFT
            and obj.submitted_at is not None
            and self.has_approve_permission(request)
        )

    def governance_approve(self, *, obj: Scorecard, by: User, data: dict[str, Any]) -> Approval:
        return approvals.scorecard_approve_audited(
            scorecard=obj, by=by, justification=data.get("justification", "")
        )

    def governance_approved_message(self, approval: Approval) -> str:
        scorecard = cast(Scorecard, approval.scorecard)
        return (
            f"v{scorecard.version} “{scorecard.name}” is now the active scorecard, approved "
            f"with audit #{approval.audit_id}. Every score is being recomputed under it."
        )

    def approve_audited_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        scorecard = self.get_object(request, unquote(object_id))
        if scorecard is None:
            raise Http404("No such scorecard.")
        return self.audited_approve_view(
            request,
            object_id,
            title=f"Approve v{scorecard.version} “{scorecard.name}”",
            extra={
                "consequence": "Approving makes it the active scorecard now: every score is "
                "recomputed under it. Whoever wrote, changed or submitted it cannot approve it."
            },
        )

    def has_request_analysis_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(approvals.REQUEST_PERMISSION)

    @admin.action(
        description="Backtest against the active version", permissions=("request_analysis",)
    )
    def backtest(self, request: HttpRequest, queryset: QuerySet[Scorecard]) -> HttpResponse | None:  # type: ignore[override]
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one scorecard to backtest.", messages.WARNING
            )
            return None
        scorecard = queryset.get()
        try:
            run = approvals.scorecard_analysis_request(
                kind=AnalysisKind.BACKTEST, scorecard=scorecard, by=_staff(request)
            )
        except DomainError as exc:
            self.message_user(request, f"Nothing was run: {_refusal(exc)}", messages.ERROR)
            return None
        return HttpResponseRedirect(run_url(run))


class GovernedPerkChangeAdmin(GovernedSubjectMixin, PerkChangeAdmin):
    governed_admin = PerkChangeAdmin
    """Perks' change admin, with the dry-run and the audit on the pending change's page
    and the audited approval behind its Approve button."""

    change_form_template = "admin/governance/subject_change_form.html"
    governance_kinds = (
        (AnalysisKind.DRY_RUN, "Dry-run against the active version"),
        (AnalysisKind.AUDIT, "Audit for fairness"),
    )
    governance_subject_field = "perk_change"

    def governance_kinds_for(self, obj: PerkChange) -> list[tuple[str, str]]:
        return list(self.governance_kinds) if obj.status == PerkChangeStatus.PENDING else []

    def governance_request(self, *, kind: str, obj: PerkChange, by: User) -> AnalysisRun:
        return approvals.perk_change_analysis_request(kind=kind, change=obj, by=by)

    def governance_digest(self, obj: PerkChange) -> str:
        return perk_change_digest(obj)

    def governance_can_approve(self, request: HttpRequest, obj: PerkChange) -> bool:
        return obj.status == PerkChangeStatus.PENDING and request.user.has_perm(
            "perks.approve_perkchange"
        )

    def governance_approve(self, *, obj: PerkChange, by: User, data: dict[str, Any]) -> Approval:
        return approvals.perk_change_approve_audited(
            change=obj,
            by=by,
            justification=data.get("justification", ""),
            note=data.get("note", ""),
        )

    def governance_approved_message(self, approval: Approval) -> str:
        return f"{approval.perk_change}: applied, approved with audit #{approval.audit_id}."

    def approve_audited_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        change = self.get_object(request, unquote(object_id))
        if change is None:
            raise Http404("No such perk change.")
        return self.audited_approve_view(
            request,
            object_id,
            title=f"Approve the change of {change.get_kind_display().lower()} at {change.merchant}",
            extra={
                "consequence": "Approving makes it live now: every eligibility decision from "
                "then on uses it. The one who proposed it cannot approve it.",
                "comparison": self.comparison(change),
            },
        )


_GOVERNED: tuple[tuple[type[Model], type[admin.ModelAdmin]], ...] = (
    (Scorecard, GovernedScorecardAdmin),
    (PerkChange, GovernedPerkChangeAdmin),
)
for _model, _model_admin in _GOVERNED:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)

# The index opens with the fairness section (reports, drift history, approvals).
admin.site.index_template = "admin/governance/index.html"
