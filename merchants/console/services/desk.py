"""The front desk's writes: a guest's code turned into a decision, the booking made from
it, check-in, check-out (``ok``, ``no_show`` or a damage claim with its evidence) and
cancelling before check-in.

Each wraps the perks services (``merchants.perks.services``, ``merchants.perks.claims``)
and records the member's action (``action_record``) in one transaction: the action is
recorded if and only if the change happened. The domain's refusals (``DomainError``)
pass through unchanged for the pages to show in the member's words."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from common.domain import TooManyAttempts
from merchants.api.attempts import CODE_ATTEMPTS
from merchants.console.services.actions import action_record
from merchants.errors import CodeInvalid, CodeUsed
from merchants.models import MerchantMember
from merchants.perks import claims as perks_claims
from merchants.perks import services as perks_services
from merchants.perks.claims import ClaimLineInput
from merchants.perks.errors import EvidenceInvalid
from merchants.perks.models import Booking, BookingOutcome, Claim, ClaimEvidence, Decision, PerkKind

logger = logging.getLogger(__name__)


def _code_idents(member: MerchantMember, address: str) -> list[str]:
    """Who a failed code counts against: the merchant and the address, as in the API
    (``merchants.api.attempts``), so the console is no way around the API's limit."""
    return [f"merchant:{member.merchant_id}", f"address:{address}"]


def desk_decide(
    *, member: MerchantMember, code: str, deposit_amount: int, address: str
) -> Decision:
    """Redeem the guest's one-time code and decide on a deposit of ``deposit_amount``
    (``perks_services.eligibility_decide``): ``too_many_attempts`` once the merchant or
    the address failed too many codes (counted with the API's), ``code_invalid``,
    ``code_used``, ``perk_unavailable``... and nothing is written then."""
    wait = CODE_ATTEMPTS.wait(_code_idents(member, address))
    if wait is not None:
        logger.warning(
            "code redemption attempts limited",
            extra={"merchant_id": str(member.merchant_id), "address": address, "retry_after": wait},
        )
        raise TooManyAttempts(retry_after=wait)
    try:
        with transaction.atomic():
            decision = perks_services.eligibility_decide(
                merchant=member.merchant,
                perk_kind=PerkKind.DEPOSIT_WAIVER,
                amount=deposit_amount,
                code=code,
            )
            action_record(
                member=member,
                verb="decision.make",
                target_id=decision.pk,
                detail={
                    "eligible": decision.eligible,
                    "requested": decision.requested_amount,
                    "waived": decision.waived_amount,
                    "held": decision.held_amount,
                },
            )
    except (CodeInvalid, CodeUsed):
        CODE_ATTEMPTS.failed(_code_idents(member, address))
        raise
    return decision


@transaction.atomic
def desk_book(
    *,
    member: MerchantMember,
    decision_id: Any,
    reference: str,
    check_in: date,
    check_out: date,
    deposit_amount: int,
    check_in_now: bool = False,
) -> Booking:
    """Book from the decision (``perks_services.booking_create``) and, if asked, check the
    guest in at once (``booking_check_in``): both or neither."""
    booking = perks_services.booking_create(
        merchant=member.merchant,
        decision_id=decision_id,
        reference=reference,
        check_in=check_in,
        check_out=check_out,
        deposit_amount=deposit_amount,
    )
    action_record(
        member=member,
        verb="booking.create",
        target_id=booking.pk,
        detail={"reference": reference, "deposit": deposit_amount, "held": booking.hold_amount},
    )
    if check_in_now:
        booking = _check_in(member=member, booking_id=booking.pk)
    return booking


def _check_in(*, member: MerchantMember, booking_id: Any) -> Booking:
    booking = perks_services.booking_check_in(merchant=member.merchant, booking_id=booking_id)
    action_record(
        member=member,
        verb="booking.check_in",
        target_id=booking.pk,
        detail={"reference": booking.reference},
    )
    return booking


@transaction.atomic
def desk_check_in(*, member: MerchantMember, booking_id: Any) -> Booking:
    """Check the guest in (``perks_services.booking_check_in``: the deposit's hold is
    placed now if it was not yet)."""
    return _check_in(member=member, booking_id=booking_id)


def desk_check_out(
    *,
    member: MerchantMember,
    booking_id: Any,
    outcome: str,
    lines: Sequence[ClaimLineInput] = (),
    files: Sequence[UploadedFile] = (),
) -> Booking:
    """Close the stay (``perks_claims.booking_complete``): ``ok``, ``no_show``, or
    ``damage`` with its itemised ``lines`` and evidence ``files``
    (``perks_claims.claim_evidence_add``, each). All or nothing: a refused file refuses
    the check-out, and the files already stored for it are deleted."""
    stored: list[ClaimEvidence] = []
    try:
        with transaction.atomic():
            damage = outcome == BookingOutcome.DAMAGE
            booking = perks_claims.booking_complete(
                merchant=member.merchant,
                booking_id=booking_id,
                outcome=outcome,
                lines=list(lines) if damage else None,
            )
            detail: dict[str, Any] = {"reference": booking.reference, "outcome": outcome}
            if damage:
                claim = Claim.objects.get(booking_id=booking.pk)
                for upload in files:
                    stored.append(
                        perks_claims.claim_evidence_add(
                            merchant=member.merchant, claim_id=claim.pk, upload=upload
                        )
                    )
                detail |= {"claim": str(claim.pk), "amount": claim.amount, "files": len(stored)}
            action_record(
                member=member, verb="booking.check_out", target_id=booking.pk, detail=detail
            )
    except Exception:
        for evidence in stored:
            evidence.file.storage.delete(evidence.file.name)
        raise
    return booking


def desk_evidence_add(
    *, member: MerchantMember, booking_id: Any, files: Sequence[UploadedFile]
) -> list[ClaimEvidence]:
    """Add files to the booking's claim while the guest may answer it or staff decide it
    (``perks_claims.claim_evidence_add``): all or none."""
    stored: list[ClaimEvidence] = []
    try:
        with transaction.atomic():
            claim = Claim.objects.filter(booking_id=booking_id, merchant=member.merchant).first()
            if claim is None:
                raise EvidenceInvalid("This booking has no claim.")
            for upload in files:
                stored.append(
                    perks_claims.claim_evidence_add(
                        merchant=member.merchant, claim_id=claim.pk, upload=upload
                    )
                )
            action_record(
                member=member,
                verb="claim.evidence_add",
                target_id=claim.pk,
                detail={"files": len(stored)},
            )
    except Exception:
        for evidence in stored:
            evidence.file.storage.delete(evidence.file.name)
        raise
    return stored


@transaction.atomic
def desk_cancel(*, member: MerchantMember, booking_id: Any) -> Booking:
    """Cancel the booking before check-in (``perks_services.booking_cancel``: the hold
    released, nothing recorded on the guest's score; ``stay_started`` once it has)."""
    booking = perks_services.booking_cancel(
        merchant=member.merchant, booking_id=booking_id, by=member.user
    )
    action_record(
        member=member,
        verb="booking.cancel",
        target_id=booking.pk,
        detail={"reference": booking.reference},
    )
    return booking
