"""Refusals of bills, each with a stable code and kind."""

from collections.abc import Mapping
from enum import StrEnum

from common.domain import Conflict, FieldError, Forbidden, InvalidRequest, Refused


class NotABiller(Forbidden):
    code = "not_a_biller"
    title = "Not a biller"
    default_detail = "Only a biller issues bills; ask the operator to register you as one."


class BillAlreadyPaid(Conflict):
    code = "bill_already_paid"
    title = "Bill already paid"
    default_detail = "This bill was already paid."


class BillPeriod(StrEnum):
    """Which of the consent's limits a bill would pass."""

    BILL = "bill"  # the largest single bill
    MONTH = "month"  # the monthly total (the calendar month of issue, TIME_ZONE)


class BillOverLimit(Refused):
    """The bill passes a limit the citizen set on the billing consent; ``limit`` (minor
    units) and ``period`` say which, as ``top_up_limit`` does."""

    code = "bill_over_limit"
    title = "Bill over the consent's limit"
    default_detail = "This bill is over a limit the citizen set on their billing consent."

    def __init__(self, *, limit: int, period: BillPeriod, detail: str) -> None:
        self.limit = limit
        self.period = period
        super().__init__(detail, errors=[FieldError("amount", detail, self.code)])

    @property
    def extras(self) -> Mapping[str, object]:
        return {"limit": self.limit, "period": self.period.value}


class DueDateTooSoon(InvalidRequest):
    code = "due_date_too_soon"
    title = "Due date too soon"
    default_detail = "A bill is due at least 7 days after it is issued."
