"""A perk's terms as one value: what a version of the perk decides (its rules, its
maximum), whether live or a draft (a pending change). The fairness audit and the dry-run
(``governance``) examine these; they never read a perk's tables themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings

from common.approvals import subject_digest
from merchants.perks.models import PERK_BOUND_RANGES, PerkChange, PerkVersion
from merchants.perks.rules import Rules


@dataclass(frozen=True)
class PerkTerms:
    perk_id: uuid.UUID | None
    """None for a draft of a perk that does not exist yet."""
    merchant_name: str
    kind: str
    version: int | None
    """The version number; None for a draft (a pending change)."""
    rules: Rules
    max_amount: int
    currency: str

    @property
    def label(self) -> str:
        version = f"v{self.version}" if self.version is not None else "draft"
        return f"{self.merchant_name}: {self.kind.replace('_', ' ')} ({version})"


def perk_terms_active() -> list[PerkTerms]:
    """The live terms of every active perk, ordered by merchant and kind: each perk's
    active version (the unretired one, whose terms offer the perk)."""
    versions = (
        PerkVersion.objects.filter(retired_at__isnull=True, is_active=True)
        .select_related("perk__merchant")
        .order_by("perk__merchant__name", "perk__kind")
    )
    return [
        PerkTerms(
            perk_id=version.perk_id,
            merchant_name=version.perk.merchant.name,
            kind=version.perk.kind,
            version=version.version,
            rules=Rules.from_data(version.rules),
            max_amount=version.max_amount,
            currency=settings.WALLET_CURRENCY,
        )
        for version in versions
    ]


def perk_terms_of_change(change: PerkChange) -> PerkTerms:
    """The terms a pending change would make live."""
    return PerkTerms(
        perk_id=change.perk_id,
        merchant_name=change.merchant.name,
        kind=change.kind,
        version=None,
        rules=Rules.from_data(change.rules),
        max_amount=change.max_amount,
        currency=settings.WALLET_CURRENCY,
    )


def perk_change_digest(change: PerkChange) -> str:
    """The digest an approval's audit must carry: of everything the change makes live."""
    return subject_digest(
        {
            "perk": str(change.perk_id) if change.perk_id else None,
            "merchant": str(change.merchant_id),
            "kind": change.kind,
            "rules": change.rules,
            "max_amount": change.max_amount,
            "is_active": change.is_active,
            **{name: getattr(change, name) for name in PERK_BOUND_RANGES},
        }
    )
