"""What the API reference says about a bill's dates, and the example of issuing one,
written from the constants that enforce them (see ``merchants.api.docs``)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample

from merchants.bills.services import BILL_DUE_MIN

BILL_DUE = (
    f"A bill falls due at least {BILL_DUE_MIN.days} days after the day it is issued; paid "
    "on or before its due date it counts as paid on time, unpaid "
    f"{settings.BILL_OVERDUE_AFTER_DAYS} days after it, it is reported overdue."
)

BILL_CREATE_EXAMPLES = [
    OpenApiExample(
        "A monthly bill",
        summary="Issue a bill under a billing consent",
        value={
            "consent_id": "3f2b8c1e-5d4a-4e7b-9a61-2c0d8e4f7a19",
            "amount": 8990,
            "due_date": "2026-05-20",
            "description": "Mobile plan, April 2026",
        },
        request_only=True,
    )
]
