"""Refusals of bills, each with a stable code and HTTP status."""

from rest_framework import status

from common.errors import ApiError, Conflict


class NotABiller(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "not_a_biller"
    title = "Not a biller"
    default_detail = "Only a biller issues bills; ask the operator to register you as one."


class BillAlreadyPaid(Conflict):
    code = "bill_already_paid"
    title = "Bill already paid"
    default_detail = "This bill was already paid."
