"""Perk changes as tests make them: what a browser posts for the rules rows
(``merchants.perks.admin_forms``), and the audit evidence governance would attach to an
approval (``common.approvals.ApprovalEvidence``)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from common.approvals import ApprovalEvidence
from merchants.perks.admin_forms import major_text
from merchants.perks.models import PerkChange
from merchants.perks.versions import perk_change_digest
from scoring.facts import BAND_LABELS


def audited(
    change: PerkChange,
    *,
    min_ratio: float | None = 0.95,
    justification: str = "",
    at: datetime | None = None,
    digest: str | None = None,
) -> ApprovalEvidence:
    """Evidence of an audit of exactly the change's terms (``digest`` for another's), run
    ``at`` (now by default), whose lowest ratio is ``min_ratio``."""
    return ApprovalEvidence(
        audit_id=1,
        subject_digest=digest or perk_change_digest(change),
        audited_at=at or timezone.now(),
        min_ratio=min_ratio,
        justification=justification,
    )


def rules_post_data(
    rules: Mapping[str, Any], *, initial: bool = True, currency: str | None = None
) -> dict[str, str]:
    """The rows of ``rules`` as posted: a condition's band by its label, a tier's amount in
    major units; counted as the rows the page started with (``initial``) or as new ones."""
    currency = currency or settings.WALLET_CURRENCY
    data: dict[str, str] = {}
    for prefix, rows in (("conditions", rules["conditions"]), ("tiers", rules["tiers"])):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = str(len(rows) if initial else 0)
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
    for index, condition in enumerate(rules["conditions"]):
        value = condition["value"]
        shown = BAND_LABELS.get(value, value) if condition["fact"] == "band" else value
        data.update(
            {
                f"conditions-{index}-fact": str(condition["fact"]),
                f"conditions-{index}-op": str(condition["op"]),
                f"conditions-{index}-value": str(shown),
                f"conditions-{index}-message": str(condition["message"]),
                f"conditions-{index}-code": str(condition.get("code", "")),
            }
        )
    for index, tier in enumerate(rules["tiers"]):
        data.update(
            {
                f"tiers-{index}-band": str(tier["band"]),
                f"tiers-{index}-max_amount": major_text(tier["max_amount"], currency),
            }
        )
    return data
