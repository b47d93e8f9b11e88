"""Writes of the manager's and billing clerk's pages: each wraps the domain's own
service and records who did it (``action_record``) in the same transaction, so the
action is on record if and only if the change happened.

Role checks are the views' (``console_view``); what a member may touch is their
merchant's only: objects are looked up through ``member.merchant``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from merchants.bills import services as bills_services
from merchants.bills.models import Bill
from merchants.console.selectors import office as selectors
from merchants.console.services.actions import action_record
from merchants.models import MerchantMember
from scoring import services as scoring_services
from scoring.errors import DisputeNotOpen
from scoring.models import Dispute

VERB_DISPUTE_VERIFY = "dispute.verify"
VERB_DISPUTE_CORRECT = "dispute.correct"
VERB_BILL_ISSUE = "bill.issue"


def _dispute_answer(*, member: MerchantMember, dispute_id: Any, verify: bool, note: str) -> Dispute:
    """Answer a dispute of a record the member's merchant furnished. Answered after
    ``respond_by``, scoring removes the record unanswered and refuses the answer
    (``dispute_not_open``): that removal stands (it is what the daily sweep would do), so
    it commits here before the refusal is raised, with no action recorded."""
    refused: DisputeNotOpen | None = None
    with transaction.atomic():
        dispute = selectors.dispute_of(merchant=member.merchant, dispute_id=dispute_id)
        answer = scoring_services.dispute_verify if verify else scoring_services.dispute_correct
        try:
            dispute = answer(dispute=dispute, furnisher_id=member.merchant_id, note=note)
        except DisputeNotOpen as error:
            refused = error
        else:
            action_record(
                member=member,
                verb=VERB_DISPUTE_VERIFY if verify else VERB_DISPUTE_CORRECT,
                target_id=dispute.pk,
                detail={"note": note},
            )
    if refused is not None:
        raise refused
    return dispute


def dispute_verify(*, member: MerchantMember, dispute_id: Any, note: str) -> Dispute:
    """The record is right: it stands, with the member's note
    (``scoring.services.dispute_verify``)."""
    return _dispute_answer(member=member, dispute_id=dispute_id, verify=True, note=note)


def dispute_correct(*, member: MerchantMember, dispute_id: Any, note: str = "") -> Dispute:
    """The record is wrong: it is removed and the score recomputed
    (``scoring.services.dispute_correct``)."""
    return _dispute_answer(member=member, dispute_id=dispute_id, verify=False, note=note)


@transaction.atomic
def bill_issue(
    *,
    member: MerchantMember,
    consent_id: Any,
    amount: int,
    due_date: date,
    description: str,
) -> Bill:
    """Issue a bill under a live billing consent of the member's merchant, within its
    limits (``merchants.bills.services.bill_issue``: ``bill_over_limit``,
    ``due_date_too_soon``...)."""
    bill = bills_services.bill_issue(
        merchant=member.merchant,
        consent_id=consent_id,
        amount=amount,
        due_date=due_date,
        description=description,
    )
    action_record(
        member=member,
        verb=VERB_BILL_ISSUE,
        target_id=bill.pk,
        detail={"consent_id": str(consent_id), "amount": amount, "currency": bill.currency},
    )
    return bill
