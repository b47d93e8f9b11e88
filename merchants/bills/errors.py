"""Refusals of bills, each with a stable code and kind."""

from common.domain import Conflict, Forbidden


class NotABiller(Forbidden):
    code = "not_a_biller"
    title = "Not a biller"
    default_detail = "Only a biller issues bills; ask the operator to register you as one."


class BillAlreadyPaid(Conflict):
    code = "bill_already_paid"
    title = "Bill already paid"
    default_detail = "This bill was already paid."
