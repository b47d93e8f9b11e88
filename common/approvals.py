"""What approving a scorecard or a perk version needs besides a second member of staff:
a fairness audit of exactly what is approved, less than a day old, and a written
justification when any of its ratios is under the floor.

Governance runs the audits and builds the evidence; scoring and perks, below it, take
the evidence as this typed value and check it here, the one implementation of the rule,
inside the approving transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from common.domain import Conflict, InvalidRequest


class AuditRequired(Conflict):
    code = "audit_required"
    title = "Audit required"
    default_detail = (
        "Run a fairness audit of exactly this version first: it can be approved only with "
        "an audit of it less than a day old."
    )


class JustificationRequired(InvalidRequest):
    code = "justification_required"
    title = "Justification required"
    default_detail = (
        "A ratio of the audit is under the floor: say why this version should go live "
        "anyway; the justification is published with the approval."
    )


def subject_digest(payload: Any) -> str:
    """A digest of a scorecard's definition or a perk version's terms: the same for the
    same content, whatever the key order."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def audit_max_age() -> timedelta:
    return timedelta(hours=settings.FAIRNESS_AUDIT_MAX_AGE_HOURS)


def ratio_floor() -> float:
    return float(settings.FAIRNESS_RATIO_FLOOR)


@dataclass(frozen=True, slots=True)
class ApprovalEvidence:
    """The audit an approval rests on, as governance found it."""

    audit_id: int
    subject_digest: str
    audited_at: datetime
    min_ratio: float | None
    justification: str = ""

    @property
    def needs_justification(self) -> bool:
        return self.min_ratio is not None and self.min_ratio < ratio_floor()


def approval_evidence_check(
    evidence: ApprovalEvidence | None, *, digest: str, now: datetime
) -> None:
    """Refuse an approval without an audit of exactly this content (``audit_required``),
    with one more than a day old (``audit_required``, too: it must be run again), or
    with a ratio under the floor and no justification (``justification_required``)."""
    if evidence is None or evidence.subject_digest != digest:
        raise AuditRequired()
    if now - evidence.audited_at > audit_max_age():
        raise AuditRequired(
            "The latest audit of this version is more than a day old: run it again."
        )
    if evidence.needs_justification and not evidence.justification.strip():
        raise JustificationRequired()
