"""The daily reconciliation: does the ledger still add up, and is every cent we owe
customers held at the providers?

The trial balance, each check set-based over the whole ledger:

- every transfer has two or more legs summing to zero;
- every account's balance equals the sum of its entries, and its ``held`` the sum of its
  active holds;
- the balances of all accounts sum to zero;
- payouts in transit hold exactly the pending payouts.

Safeguarding: the customer funds (citizens' wallets, merchants' settlement accounts and
payouts in transit) must equal what the providers report holding for us (received minus
paid out), plus the funds booked before any provider (the funding account's). Each
provider's report must also match its ledger account.

A report is stored either way; at the first cent of difference an error is logged (an
operator alerts on ``reconciliation found differences``), naming what differs.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from wallet import services as ledger
from wallet.models import (
    AccountKind,
    LedgerAccount,
    Payout,
    PayoutStatus,
    ReconciliationReport,
    SystemAccount,
    provider_account_code,
)
from wallet.payments.providers import provider

logger = logging.getLogger(__name__)

# At most this many offenders of one check are named in a report.
NAMED_AT_MOST = 50


@dataclass(frozen=True, slots=True)
class Problem:
    """One difference: which check, what it concerns (an account's code, a transfer's
    id, a provider), what was expected and what was found."""

    check: str
    subject: str
    expected: int
    actual: int


def _rows(sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _unbalanced_transfers() -> list[Problem]:
    rows = _rows(
        """
        SELECT t.id, COALESCE(SUM(e.amount), 0), COUNT(e.id)
          FROM wallet_transfer t
          LEFT JOIN wallet_entry e ON e.transfer_id = t.id
         GROUP BY t.id
        HAVING COALESCE(SUM(e.amount), 0) <> 0 OR COUNT(e.id) < 2
         LIMIT %s
        """,
        (NAMED_AT_MOST,),
    )
    return [
        Problem("transfer_balanced", f"transfer {transfer_id}", 0, int(total))
        for transfer_id, total, _legs in rows
    ]


def _balances_off() -> list[Problem]:
    rows = _rows(
        """
        SELECT a.code, COALESCE(s.total, 0), a.balance
          FROM wallet_ledgeraccount a
          LEFT JOIN (SELECT account_id, SUM(amount) AS total
                       FROM wallet_entry GROUP BY account_id) s ON s.account_id = a.id
         WHERE a.balance <> COALESCE(s.total, 0)
         ORDER BY a.code
         LIMIT %s
        """,
        (NAMED_AT_MOST,),
    )
    return [Problem("balance_is_sum_of_entries", code, int(e), int(b)) for code, e, b in rows]


def _held_off() -> list[Problem]:
    rows = _rows(
        """
        SELECT a.code, COALESCE(h.total, 0), a.held
          FROM wallet_ledgeraccount a
          LEFT JOIN (SELECT account_id, SUM(amount) AS total
                       FROM wallet_hold WHERE status = 'active'
                      GROUP BY account_id) h ON h.account_id = a.id
         WHERE a.held <> COALESCE(h.total, 0)
         ORDER BY a.code
         LIMIT %s
        """,
        (NAMED_AT_MOST,),
    )
    return [Problem("held_is_sum_of_active_holds", code, int(e), int(h)) for code, e, h in rows]


def _total(queryset_sum: int | None) -> int:
    return int(queryset_sum or 0)


def reconcile(*, business_date: date | None = None) -> ReconciliationReport:
    """Run every check now, store the report and return it."""
    started = timezone.now()
    currency = settings.WALLET_CURRENCY
    problems: list[Problem] = []
    problems += _unbalanced_transfers()
    problems += _balances_off()
    problems += _held_off()

    balances = LedgerAccount.objects.aggregate(total=Sum("balance"))["total"]
    if _total(balances) != 0:
        problems.append(Problem("balances_sum_to_zero", "all accounts", 0, _total(balances)))

    in_transit = ledger.system_account(SystemAccount.PAYOUTS_IN_TRANSIT)
    pending = _total(
        Payout.objects.filter(status=PayoutStatus.PENDING).aggregate(total=Sum("amount"))["total"]
    )
    if in_transit.balance != pending:
        problems.append(
            Problem("in_transit_is_pending_payouts", in_transit.code, pending, in_transit.balance)
        )

    customer_funds = (
        _total(
            LedgerAccount.objects.filter(
                kind__in=(AccountKind.WALLET, AccountKind.SETTLEMENT)
            ).aggregate(total=Sum("balance"))["total"]
        )
        + in_transit.balance
    )
    funding = ledger.system_account(SystemAccount.FUNDING)
    provider_funds = -funding.balance
    providers = {}
    for name in settings.PAYMENTS_PROVIDERS:
        totals = provider(name).totals(currency=currency)
        account = LedgerAccount.objects.filter(code=provider_account_code(name)).first()
        booked = -account.balance if account is not None else 0
        providers[name] = {
            "received": totals.received,
            "paid_out": totals.paid_out,
            "booked": booked,
        }
        provider_funds += totals.net
        if totals.net != booked:
            problems.append(
                Problem("provider_matches_ledger", f"provider {name}", booked, totals.net)
            )
    difference = customer_funds - provider_funds
    if difference:
        problems.append(
            Problem("customer_funds_safeguarded", "customer funds", provider_funds, customer_funds)
        )

    report = ReconciliationReport.objects.create(
        business_date=business_date or timezone.localdate(started),
        started_at=started,
        finished_at=timezone.now(),
        ok=not problems,
        currency=currency,
        customer_funds=customer_funds,
        provider_funds=provider_funds,
        difference=difference,
        checks=[
            {"providers": providers, "funding": -funding.balance, "in_transit": pending},
        ],
        problems=[asdict(problem) for problem in problems],
    )
    if problems:
        logger.error(
            "reconciliation found differences",
            extra={
                "report_id": str(report.pk),
                "difference": difference,
                "problems": [asdict(problem) for problem in problems[:10]],
            },
        )
    else:
        logger.info("reconciliation balanced", extra={"report_id": str(report.pk)})
    return report
