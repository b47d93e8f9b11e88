"""The daily reconciliation: does the ledger still add up, and is every cent we owe
customers held at the providers?

The trial balance, each check one set-based query over the whole ledger (about 10-12 s in
all at a million accounts and 3.8 million entries on two busy cores: ``bench.reconcile``),
naming its offenders (at most ``NAMED_AT_MOST`` of them, and how
many there are in all):

- every transfer has two or more legs summing to zero (named by transfer id);
- every account's balance equals the sum of its entries, and its ``held`` the sum of its
  active holds (named by account code);
- the balances of all accounts sum to zero;
- payouts in transit (``system:payouts_in_transit``) hold exactly the pending payouts.

Safeguarding: the customer funds (citizens' wallets, merchants' settlement accounts and
payouts in transit) must equal what the providers report holding for us (received minus
paid out), plus the legacy funds: money booked before any provider, on the funding
account (``system:funding``), which no provider reports. Each provider's report must also
match its ledger account (``system:provider:<name>``: top-ups credited minus payouts
settled), and every provider the ledger has an account for must be able to report.

Every query runs in one transaction (on PostgreSQL a repeatable-read snapshot when the
caller is not in a transaction already), so a payment committing meanwhile cannot show
as a difference. A report is stored either way; at the first cent of difference an error
is logged (an operator alerts on ``reconciliation found differences``), naming what
differs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from common.db import statement_timeout
from common.money import format_money
from wallet.models import (
    AccountKind,
    HoldStatus,
    LedgerAccount,
    Payout,
    PayoutStatus,
    ReconciliationReport,
    SystemAccount,
    TopUp,
    TopUpStatus,
    provider_account_code,
)
from wallet.payments.providers import ProviderUnavailable, UnknownProvider, provider

logger = logging.getLogger(__name__)

# At most this many offenders of one check are named in a report (all are counted).
NAMED_AT_MOST = 50
# The checks read the whole ledger: seconds at a million accounts, from a web request
# (the admin's button) as from the worker, whose default statement limits are shorter.
STATEMENT_TIMEOUT_SECONDS = 600
FULL_SCAN_WORK_MEM = "64MB"
PROVIDER_PREFIX = provider_account_code("")

# The checks, in the order they run, and what each means (the admin shows these).
CHECKS = {
    "transfer_balanced": "Every transfer has two or more legs summing to zero.",
    "balance_is_sum_of_entries": "Every account's balance is the sum of its entries.",
    "held_is_sum_of_active_holds": "Every account's held amount is the sum of its active holds.",
    "balances_sum_to_zero": "The balances of all accounts sum to zero.",
    "in_transit_is_pending_payouts": "Payouts in transit hold exactly the pending payouts.",
    "provider_reports": "Every provider with a ledger account reports its totals.",
    "provider_matches_ledger": "Each provider's received minus paid out is what its ledger "
    "account booked.",
    "customer_funds_safeguarded": "Customer funds equal the providers' funds plus the legacy "
    "funds.",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One difference: which check, what it concerns (an account's code, a transfer's
    id, a provider), what was expected and what was found."""

    check: str
    subject: str
    expected: int
    actual: int


@dataclass(slots=True)
class _Run:
    problems: list[Problem]
    found: dict[str, int]

    def add(self, check: str, problems: Sequence[Problem], found: int | None = None) -> None:
        self.problems.extend(problems)
        self.found[check] = len(problems) if found is None else found


def _rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _offenders(
    sql: str, params: Sequence[Any] = (), *, columns: str, order_by: str
) -> tuple[list[tuple[Any, ...]], int]:
    """The first ``NAMED_AT_MOST`` offenders (``columns`` of the rows ``sql`` selects, in
    ``order_by`` order) and how many there are in all.

    The offenders are found first, in full (on PostgreSQL a materialized CTE: with the
    LIMIT in sight the planner would otherwise walk the accounts in order and join each
    to the aggregate, which at a million accounts never finishes), then few are named.
    """
    materialized = "MATERIALIZED" if connection.vendor == "postgresql" else ""
    # Every piece is a constant of this module; the values go as parameters.
    rows = _rows(
        f"WITH offenders AS {materialized} ({sql}) "  # noqa: S608
        f"SELECT {columns}, COUNT(*) OVER () FROM offenders ORDER BY {order_by} LIMIT %s",
        [*params, NAMED_AT_MOST],
    )
    return [row[:-1] for row in rows], (int(rows[0][-1]) if rows else 0)


def _unbalanced_transfers(run: _Run) -> None:
    rows, found = _offenders(
        """
        SELECT t.id, t.created_at, COALESCE(e.total, 0) AS total, COALESCE(e.legs, 0) AS legs
          FROM wallet_transfer t
          LEFT JOIN (SELECT transfer_id, SUM(amount) AS total, COUNT(*) AS legs
                       FROM wallet_entry GROUP BY transfer_id) e ON e.transfer_id = t.id
         WHERE COALESCE(e.total, 0) <> 0 OR COALESCE(e.legs, 0) < 2
        """,
        columns="id, total, legs",
        order_by="created_at, id",
    )
    run.add(
        "transfer_balanced",
        [
            Problem("transfer_balanced", f"transfer {_uuid_text(transfer_id)}", 0, int(total))
            for transfer_id, total, _legs in rows
        ],
        found,
    )


def _uuid_text(value: object) -> str:
    """A transfer id as the admin and the API print it (SQLite stores it as 32 hex
    digits)."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _balances_off(run: _Run) -> None:
    rows, found = _offenders(
        """
        SELECT a.code, COALESCE(s.total, 0) AS expected, a.balance AS actual
          FROM wallet_ledgeraccount a
          LEFT JOIN (SELECT account_id, SUM(amount) AS total
                       FROM wallet_entry GROUP BY account_id) s ON s.account_id = a.id
         WHERE a.balance <> COALESCE(s.total, 0)
        """,
        columns="code, expected, actual",
        order_by="code",
    )
    run.add(
        "balance_is_sum_of_entries",
        [Problem("balance_is_sum_of_entries", code, int(e), int(b)) for code, e, b in rows],
        found,
    )


def _held_off(run: _Run) -> None:
    rows, found = _offenders(
        """
        SELECT a.code, COALESCE(h.total, 0) AS expected, a.held AS actual
          FROM wallet_ledgeraccount a
          LEFT JOIN (SELECT account_id, SUM(amount) AS total
                       FROM wallet_hold WHERE status = %s
                      GROUP BY account_id) h ON h.account_id = a.id
         WHERE a.held <> COALESCE(h.total, 0)
        """,
        [HoldStatus.ACTIVE.value],
        columns="code, expected, actual",
        order_by="code",
    )
    run.add(
        "held_is_sum_of_active_holds",
        [Problem("held_is_sum_of_active_holds", code, int(e), int(h)) for code, e, h in rows],
        found,
    )


def _total(value: int | None) -> int:
    return int(value or 0)


def _sums_by_provider(queryset: Any) -> dict[str, int]:
    return {
        row["provider"]: _total(row["total"])
        for row in queryset.values("provider").annotate(total=Sum("amount")).order_by()
    }


def _providers(run: _Run, *, currency: str, booked: dict[str, int]) -> dict[str, dict[str, int]]:
    """Each provider's report next to what the ledger booked for it (``booked``: minus its
    account's balance), with our own records' totals to tell where a difference lies."""
    credited = _sums_by_provider(TopUp.objects.filter(status=TopUpStatus.SUCCEEDED))
    paid = _sums_by_provider(Payout.objects.filter(status=PayoutStatus.PAID))
    names = sorted(set(settings.PAYMENTS_PROVIDERS) | set(booked))
    providers: dict[str, dict[str, int]] = {}
    unavailable: list[Problem] = []
    mismatched: list[Problem] = []
    for name in names:
        ledger_net = booked.get(name, 0)
        row = {
            "booked": ledger_net,
            "top_ups_succeeded": credited.get(name, 0),
            "payouts_paid": paid.get(name, 0),
        }
        try:
            totals = provider(name).totals(currency=currency)
        except (ProviderUnavailable, UnknownProvider):
            providers[name] = row
            # A provider no longer configured, with nothing booked, has nothing to report.
            if ledger_net or name in settings.PAYMENTS_PROVIDERS:
                unavailable.append(Problem("provider_reports", f"provider {name}", ledger_net, 0))
            continue
        providers[name] = {
            "received": totals.received,
            "paid_out": totals.paid_out,
            "net": totals.net,
            **row,
            "difference": totals.net - ledger_net,
        }
        if totals.net != ledger_net:
            mismatched.append(
                Problem("provider_matches_ledger", f"provider {name}", ledger_net, totals.net)
            )
    run.add("provider_reports", unavailable)
    run.add("provider_matches_ledger", mismatched)
    return providers


def _checks(run: _Run) -> list[dict[str, Any]]:
    return [
        {
            "check": check,
            "description": description,
            "ok": not run.found.get(check, 0),
            "found": run.found.get(check, 0),
        }
        for check, description in CHECKS.items()
    ]


def reconcile(*, business_date: date | None = None) -> ReconciliationReport:
    """Run every check now, store the report and return it."""
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with statement_timeout(STATEMENT_TIMEOUT_SECONDS), _full_scans():
            report = _reconcile(business_date=business_date)
    if report.ok:
        logger.info("reconciliation balanced", extra={"report_id": str(report.pk)})
    else:
        logger.error(
            "reconciliation found differences",
            extra={
                "report_id": str(report.pk),
                "difference": report.difference,
                "problems": report.problems[:10],
            },
        )
    return report


@contextmanager
def _full_scans() -> Iterator[None]:
    """On PostgreSQL, plan the checks as the full scans they are: aggregate in memory
    (``work_mem``) over sequential scans, rather than walk an index in random order (at
    four million entries: 3 s instead of 20). Transaction-local, put back afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    settings_ = {"work_mem": FULL_SCAN_WORK_MEM, "enable_indexscan": "off"}
    with connection.cursor() as cursor:
        previous = {}
        for name, value in settings_.items():
            cursor.execute(
                "SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value]
            )
            previous[name] = cursor.fetchone()[0]
    yield
    with connection.cursor() as cursor:
        for name, value in previous.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def _reconcile(*, business_date: date | None) -> ReconciliationReport:
    started = timezone.now()
    currency = settings.WALLET_CURRENCY
    run = _Run(problems=[], found={})
    _unbalanced_transfers(run)
    _balances_off(run)
    _held_off(run)

    by_kind = {
        row["kind"]: _total(row["total"])
        for row in LedgerAccount.objects.values("kind").annotate(total=Sum("balance")).order_by()
    }
    everything = sum(by_kind.values())
    run.add(
        "balances_sum_to_zero",
        [Problem("balances_sum_to_zero", "all accounts", 0, everything)] if everything else [],
    )

    # The system accounts are few; their codes are indexed.
    system = dict(
        LedgerAccount.objects.filter(code__startswith="system:").values_list("code", "balance")
    )
    in_transit = system.get(SystemAccount.PAYOUTS_IN_TRANSIT.value, 0)
    pending = _total(
        Payout.objects.filter(status=PayoutStatus.PENDING).aggregate(total=Sum("amount"))["total"]
    )
    run.add(
        "in_transit_is_pending_payouts",
        [
            Problem(
                "in_transit_is_pending_payouts",
                SystemAccount.PAYOUTS_IN_TRANSIT.value,
                pending,
                in_transit,
            )
        ]
        if in_transit != pending
        else [],
    )

    booked = {
        code.removeprefix(PROVIDER_PREFIX): -balance
        for code, balance in system.items()
        if code.startswith(PROVIDER_PREFIX)
    }
    providers = _providers(run, currency=currency, booked=booked)

    customer_funds = (
        by_kind.get(AccountKind.WALLET, 0) + by_kind.get(AccountKind.SETTLEMENT, 0) + in_transit
    )
    legacy_funds = -system.get(SystemAccount.FUNDING.value, 0)
    provider_funds = legacy_funds + sum(row.get("net", 0) for row in providers.values())
    difference = customer_funds - provider_funds
    run.add(
        "customer_funds_safeguarded",
        [Problem("customer_funds_safeguarded", "customer funds", provider_funds, customer_funds)]
        if difference
        else [],
    )

    return ReconciliationReport.objects.create(
        business_date=business_date or timezone.localdate(started),
        started_at=started,
        finished_at=timezone.now(),
        ok=not run.problems,
        currency=currency,
        customer_funds=customer_funds,
        provider_funds=provider_funds,
        legacy_funds=legacy_funds,
        in_transit=in_transit,
        pending_payouts=pending,
        difference=difference,
        providers=providers,
        system_accounts=dict(sorted(system.items())),
        checks=_checks(run),
        problems=[asdict(problem) for problem in run.problems],
    )


def report_lines(report: ReconciliationReport) -> list[str]:
    """The report as an operator reads it in a terminal (``manage.py reconcile``)."""

    def money(amount: int) -> str:
        return format_money(amount, report.currency)

    lines = [
        f"Reconciliation {report.pk} for {report.business_date}: "
        + ("balanced" if report.ok else "DIFFERENCES FOUND"),
        f"  customer funds  {money(report.customer_funds)}",
        f"  provider funds  {money(report.provider_funds)} "
        f"(legacy funds {money(report.legacy_funds)})",
        f"  difference      {money(report.difference)}",
        f"  in transit      {money(report.in_transit)} "
        f"(pending payouts {money(report.pending_payouts)})",
    ]
    for name, row in report.providers.items():
        if "net" in row:
            lines.append(
                f"  provider {name}: received {money(row['received'])}, paid out "
                f"{money(row['paid_out'])}, booked {money(row['booked'])}"
            )
        else:
            lines.append(f"  provider {name}: no report, booked {money(row['booked'])}")
    for check in report.checks:
        mark = "ok" if check["ok"] else f"FAILED ({check['found']})"
        lines.append(f"  [{mark}] {check['check']}")
    for problem in report.problems:
        lines.append(
            f"  {problem['check']}: {problem['subject']}: expected {problem['expected']}, "
            f"found {problem['actual']}"
        )
    return lines
