"""Reconciliation: the daily reconciliation over the ledger of a million citizens.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame \\
        python -m bench.reconcile --accounts 1000000 --repeat 3 [--tamper]

Uses a database of its own (``bench_open_sesame_reconcile``, or ``BENCH_DATABASE``;
created and migrated like the test database, dropped at the end). PostgreSQL only.

1. Generates the ledger N citizens leave over a year, in SQL (INSERT ... SELECT over
   generate_series; no ORM), row for row what the services write. Each citizen
   registers (the user and the wallet) and tops up once through the sandbox: the
   ``TopUp`` (succeeded), the sandbox's own ``SandboxMovement`` (received), the verified
   notification's ``ProviderEvent`` and the ``top_up`` transfer from
   ``system:provider:sandbox`` with its two entries. Nine in ten then pay one of a few
   merchants part of it (a ``payment`` transfer to its settlement account). Every cached
   balance is the sum of its entries. The rows go in in the order they happened, as a
   live system records them; keys and indexes are built after. The ledger's deferred
   balance check (a trigger per entry and per transfer, at commit) is off for the load
   only (``session_replication_role = replica``, which takes a superuser): the
   reconciliation is the check. The real services create the merchants before the load
   and close the day after it: the merchants' daily payout
   (``merchants.services.settlements_pay_out``, paid by the sandbox), then a few citizens
   more who register, top up, pay and withdraw. A sample of the generated rows is
   compared with what the sandbox and the services derive from the same ids (exit status
   1 if one differs). VACUUM ANALYZE.
2. Runs ``wallet.payments.reconciliation.reconcile()`` R times, each timed. Each report
   must balance (ok, difference 0): exit status 1 otherwise.
3. With ``--tamper``, adds one cent to one wallet's cached balance, runs it once more
   and shows that the report names that account (exit status 1 if it does not).

``--keep`` keeps the database to look at. Prints each run and, on its last line, the
median with its spread::

    reconcile: N accounts, T transfers, E entries: median X s (min A s, max B s, R runs);
    ok: true; difference: 0
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import django

# No broker: the payouts' relay runs eagerly, in this process (an empty value also wins
# over a .env file). The load's statements and VACUUM take minutes; the reconciliation
# sets its own limit, as it does in the worker.
os.environ["CELERY_BROKER_URL"] = ""
os.environ["DB_STATEMENT_TIMEOUT"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.bulk import execute, keys_rebuilt  # noqa: E402
from bench.funding import top_up_paid  # noqa: E402
from merchants import services as merchants  # noqa: E402
from merchants.models import MerchantCategory  # noqa: E402
from wallet import services as ledger  # noqa: E402
from wallet.models import (  # noqa: E402
    AccountKind,
    Entry,
    ProviderEvent,
    ReconciliationReport,
    SandboxMovement,
    SandboxMovementKind,
    TopUp,
    TopUpStatus,
    TransferKind,
    provider_account_code,
)
from wallet.payments import sandbox  # noqa: E402
from wallet.payments import services as payments  # noqa: E402
from wallet.payments.providers import NotificationKind  # noqa: E402
from wallet.payments.reconciliation import reconcile  # noqa: E402

BENCH_DATABASE = os.environ.get("BENCH_DATABASE") or "bench_open_sesame_reconcile"
SEED = 0.16
HISTORY_DAYS = 365
MERCHANTS = (
    ("City Power", MerchantCategory.BILLER),
    ("City Water", MerchantCategory.BILLER),
    ("Metro Telecom", MerchantCategory.BILLER),
    ("Harbour Hotel", MerchantCategory.HOTEL),
    ("Old Town Inn", MerchantCategory.HOTEL),
    ("Riverside Rentals", MerchantCategory.RENTAL),
)
# What citizens top up (minor units: 50.00 to 2,000.00, round sums as people choose
# them; within every identity level's daily limit), and the share who then pay.
TOP_UP_AMOUNTS = (5_000, 10_000, 20_000, 30_000, 50_000, 100_000, 200_000)
PAYING_SHARE = 0.9
# Citizens served by the real services after the load (each tops up and pays; every
# other one also withdraws).
LIVE_CITIZENS = 10
SAMPLE = 200
# The description the top-up service gives its transfer (wallet.payments.services).
TOP_UP_DESCRIPTION = "Top-up"

# Every table the load writes, and those it reads back for the balances.
GENERATED_TABLES = (
    "wallet_user",
    "wallet_ledgeraccount",
    "wallet_topup",
    "wallet_sandboxmovement",
    "wallet_providerevent",
    "wallet_transfer",
    "wallet_entry",
)


def _payer_label_sql() -> str:
    """``wallet.payments.sandbox.payer_label`` in SQL, over ``digest`` (the SHA-256 of the
    top-up id's bytes): the digest as a 256-bit number, modulo 10,000, is the sum of its
    bytes each weighed by its power of 256 modulo 10,000."""
    terms = " + ".join(f"get_byte(digest, {i}) * {pow(256, 31 - i, 10_000)}" for i in range(32))
    return f"%(payer_label_prefix)s || lpad((({terms}) %% 10000)::text, 4, '0')"


# The moments of one top-up, from the citizen's sign-up: it is opened some time before
# the last hour, the payer confirms on the checkout page within ten minutes (the top-up
# expires after 30), the signed notification arrives a fraction of a second later and
# the wallet is credited in its transaction.
_TOP_UP_AT = "joined + (%(now)s - interval '1 hour' - joined) * r_top_up"
_PAID_AT = f"{_TOP_UP_AT} + make_interval(secs => pay_after)"
_RECEIVED_AT = f"{_PAID_AT} + make_interval(secs => notified_after)"
_CREDITED_AT = f"{_RECEIVED_AT} + interval '3 milliseconds'"

# One row per citizen with every id, amount and moment of its history. Subqueries with a
# volatile function in their select list are evaluated once per row (never flattened),
# so each citizen draws its own numbers, and the digest is taken once.
PLAN_SQL = f"""
CREATE UNLOGGED TABLE bench_plan AS
SELECT n, %(user_base)s + n AS user_id, %(account_base)s + n AS wallet_id, public_id,
       identity_level, joined, top_up_id, reference, label, top_up_amount,
       {_TOP_UP_AT} AS top_up_at, {_PAID_AT} AS paid_at, {_RECEIVED_AT} AS received_at,
       {_CREDITED_AT} AS credited_at, top_up_transfer_id, event_id,
       CASE WHEN pays THEN payment_transfer_id END AS payment_transfer_id,
       CASE WHEN pays THEN GREATEST(100, floor(top_up_amount * (0.1 + 0.9 * r_amount)))::bigint
       END AS payment_amount,
       CASE WHEN pays THEN {_CREDITED_AT} + (%(now)s - ({_CREDITED_AT})) * r_when
       END AS payment_at,
       CASE WHEN pays
            THEN (%(settlements)s::bigint[])[1 + floor(r_merchant ^ 2 * %(merchants)s)::int]
       END AS settlement_id
FROM (
    SELECT row_number() OVER (ORDER BY joined) AS n, *,
           'cs_' || replace(top_up_id::text, '-', '') AS reference,
           {_payer_label_sql()} AS label
    FROM (
        SELECT top_up_id, sha256(uuid_send(top_up_id)) AS digest,
               gen_random_uuid() AS public_id,
               (ARRAY[0, 0, 1, 1, 1, 1, 2, 2, 2, 2])[1 + floor(random() * 10)::int]
                   AS identity_level,
               %(now)s - make_interval(secs => 3600 + random() * %(history_seconds)s) AS joined,
               (%(amounts)s::bigint[])[1 + floor(random() * %(amount_choices)s)::int]
                   AS top_up_amount,
               random() AS r_top_up, 5 + random() * 595 AS pay_after,
               0.02 + random() * 0.28 AS notified_after,
               gen_random_uuid() AS top_up_transfer_id,
               'evt_' || replace(gen_random_uuid()::text, '-', '') AS event_id,
               random() < %(paying_share)s AS pays, gen_random_uuid() AS payment_transfer_id,
               random() AS r_amount, random() AS r_when, random() AS r_merchant
        FROM (
            SELECT gen_random_uuid() AS top_up_id FROM generate_series(1, %(accounts)s)
        ) AS ids
    ) AS drawn
) AS planned
"""  # noqa: S608 (constants only; the values go as parameters)

# What user_register leaves (the password unusable: nobody logs in), in sign-up order.
USERS_SQL = """
INSERT INTO wallet_user (
    id, password, last_login, is_superuser, username, first_name, last_name, email,
    is_staff, is_active, date_joined, public_id, display_name, identity_level
)
SELECT user_id, '!', NULL, false, 'bench-' || n, '', '', '', false, true, joined, public_id,
       '', identity_level
FROM bench_plan ORDER BY n
"""

WALLETS_SQL = """
INSERT INTO wallet_ledgeraccount (
    id, code, kind, name, user_id, currency, balance, held, created_at
)
SELECT wallet_id, 'wallet:' || public_id, %(wallet)s, 'Wallet of bench-' || n, user_id,
       %(currency)s, top_up_amount - COALESCE(payment_amount, 0), 0, joined
FROM bench_plan ORDER BY n
"""

# The top-up as notification_receive leaves it: succeeded, credited, with the payer.
TOP_UPS_SQL = """
INSERT INTO wallet_topup (
    id, user_id, amount, currency, provider, provider_reference, checkout_url, status,
    payer_label, failure_reason, transfer_id, created_at, expires_at, resolved_at
)
SELECT top_up_id, user_id, top_up_amount, %(currency)s, %(provider)s, reference,
       %(checkout_prefix)s || reference, %(succeeded)s, label, '', top_up_transfer_id,
       top_up_at, top_up_at + %(expires_after)s, credited_at
FROM bench_plan ORDER BY top_up_at
"""

# The sandbox's books: what it received when the payer confirmed.
MOVEMENTS_SQL = """
INSERT INTO wallet_sandboxmovement (reference, kind, amount, currency, label, created_at)
SELECT reference, %(received)s, top_up_amount, %(currency)s, label, paid_at
FROM bench_plan ORDER BY paid_at
"""

# The verified notification, recorded once with what it did.
EVENTS_SQL = """
INSERT INTO wallet_providerevent (
    provider, event_id, kind, reference, payload, outcome, detail, received_at
)
SELECT %(provider)s, event_id, %(notification)s, reference,
       jsonb_build_object(
           'type', %(notification)s,
           'data', jsonb_build_object(
               'reference', reference, 'amount', top_up_amount, 'currency', %(currency)s,
               'payer_label', label, 'reason', ''
           )
       ),
       'applied', '', received_at
FROM bench_plan ORDER BY received_at
"""

TRANSFERS_SQL = """
INSERT INTO wallet_transfer (id, kind, currency, description, reference, created_at)
SELECT id, kind, %(currency)s, description, reference, created_at
FROM (
    SELECT top_up_transfer_id AS id, %(top_up)s AS kind, %(top_up_description)s AS description,
           %(provider)s || ':' || reference AS reference, credited_at AS created_at
    FROM bench_plan
    UNION ALL
    SELECT payment_transfer_id, %(payment)s, '', '', payment_at
    FROM bench_plan WHERE payment_transfer_id IS NOT NULL
) AS transfers
ORDER BY created_at
"""

# Each transfer's legs in account order, as the ledger writes them.
ENTRIES_SQL = """
INSERT INTO wallet_entry (transfer_id, account_id, amount, created_at)
SELECT transfer_id, account_id, amount, created_at
FROM (
    SELECT top_up_transfer_id AS transfer_id, %(provider_account)s AS account_id,
           -top_up_amount AS amount, credited_at AS created_at
    FROM bench_plan
    UNION ALL
    SELECT top_up_transfer_id, wallet_id, top_up_amount, credited_at FROM bench_plan
    UNION ALL
    SELECT payment_transfer_id, settlement_id, payment_amount, payment_at
    FROM bench_plan WHERE payment_transfer_id IS NOT NULL
    UNION ALL
    SELECT payment_transfer_id, wallet_id, -payment_amount, payment_at
    FROM bench_plan WHERE payment_transfer_id IS NOT NULL
) AS entries
ORDER BY created_at, account_id
"""

BALANCES_SQL = (
    """
UPDATE wallet_ledgeraccount
   SET balance = balance - (SELECT sum(top_up_amount) FROM bench_plan)
 WHERE id = %(provider_account)s
""",
    """
UPDATE wallet_ledgeraccount AS a
   SET balance = a.balance + s.total
  FROM (SELECT settlement_id, sum(payment_amount) AS total
          FROM bench_plan WHERE settlement_id IS NOT NULL GROUP BY settlement_id) AS s
 WHERE a.id = s.settlement_id
""",
)


def _count(table: str) -> int:
    return int(execute(f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608 (a constant)


def _ids_reserved(table: str, count: int) -> int:
    """Reserve ``count`` ids of ``table``'s sequence; returns the one before the first."""
    sequence = f"pg_get_serial_sequence('{table}', 'id')"
    base = int(execute(f"SELECT nextval({sequence})")[0][0])
    execute(f"SELECT setval({sequence}, %(last)s)", {"last": base + count})
    return base


def _generate(accounts: int) -> list[uuid.UUID]:
    """The ledger of ``accounts`` citizens; returns the settlement accounts' merchants."""
    started = time.perf_counter()
    merchant_rows = [merchants.merchant_create(name=name, category=c) for name, c in MERCHANTS]
    provider_account = ledger.provider_account(sandbox.NAME)
    currency = settings.WALLET_CURRENCY
    params: dict[str, Any] = {
        "now": datetime.now(tz=UTC),
        "accounts": accounts,
        "history_seconds": HISTORY_DAYS * 86_400,
        "amounts": list(TOP_UP_AMOUNTS),
        "amount_choices": len(TOP_UP_AMOUNTS),
        "paying_share": PAYING_SHARE,
        "settlements": [merchant.settlement_id for merchant in merchant_rows],
        "merchants": len(merchant_rows),
        "payer_label_prefix": sandbox.payer_label(uuid.UUID(int=0))[:-4],
        "checkout_prefix": reverse("sandbox-checkout", kwargs={"reference": "_"})[:-1],
        "expires_after": settings.PAYMENTS_TOP_UP_EXPIRES_AFTER,
        "currency": currency,
        "provider": sandbox.NAME,
        "provider_account": provider_account.pk,
        "wallet": AccountKind.WALLET.value,
        "succeeded": TopUpStatus.SUCCEEDED.value,
        "received": SandboxMovementKind.RECEIVED.value,
        "notification": NotificationKind.TOP_UP_SUCCEEDED.value,
        "top_up": TransferKind.TOP_UP.value,
        "top_up_description": TOP_UP_DESCRIPTION,
        "payment": TransferKind.PAYMENT.value,
    }
    with transaction.atomic():
        execute("SET LOCAL work_mem = '256MB'")
        execute("SET LOCAL maintenance_work_mem = '512MB'")
        # No trigger fires for the load's rows (the ledger's balance check among them);
        # for this transaction only. Foreign keys are checked as they are built again.
        execute("SET LOCAL session_replication_role = replica")
        execute("SELECT setseed(%(seed)s)", {"seed": SEED})
        params["user_base"] = _ids_reserved("wallet_user", accounts)
        params["account_base"] = _ids_reserved("wallet_ledgeraccount", accounts)
        execute(PLAN_SQL, params)
        with keys_rebuilt(GENERATED_TABLES):
            for sql in (
                USERS_SQL,
                WALLETS_SQL,
                TOP_UPS_SQL,
                MOVEMENTS_SQL,
                EVENTS_SQL,
                TRANSFERS_SQL,
                ENTRIES_SQL,
                *BALANCES_SQL,
            ):
                execute(sql, params)
            inserted = time.perf_counter() - started
        execute("DROP TABLE bench_plan")
    generated = time.perf_counter() - started

    live = _live_day(merchant_rows)
    served = time.perf_counter() - started - generated
    for table in GENERATED_TABLES:
        execute(f"VACUUM (ANALYZE) {table}")
    print(
        f"generated {accounts} accounts in {time.perf_counter() - started:.1f} s "
        f"(insert {inserted:.1f} s, keys and indexes {generated - inserted:.1f} s; "
        f"services {served:.1f} s: {len(merchant_rows)} merchants, {live}; then vacuum "
        f"analyze {time.perf_counter() - started - generated - served:.1f} s)",
        flush=True,
    )
    return [merchant.pk for merchant in merchant_rows]


def _live_day(merchant_rows: list[Any]) -> str:
    """The rest of the day through the real services: the merchants' daily payout (the
    sandbox pays it at once), then citizens who register, top up, pay and withdraw."""
    run = merchants.settlements_pay_out()
    payments.payouts_send()
    withdrawals = 0
    for number in range(1, LIVE_CITIZENS + 1):
        user = ledger.user_register(
            username=f"bench-live-{number}",
            password="bench-password-123",  # noqa: S106
        )
        top_up_paid(user, 50_000)
        merchant = merchant_rows[number % len(merchant_rows)]
        ledger.payment_create(user=user, destination=merchant.settlement, amount=12_345)
        if number % 2:
            payments.withdrawal_create(user=user, amount=20_000)
            withdrawals += 1
    payments.payouts_send()
    return (
        f"{run.paid} payouts of their settlements, {LIVE_CITIZENS} citizens more, "
        f"{withdrawals} withdrawals"
    )


def _sample_problems(accounts: int) -> list[str]:
    """Generated top-ups whose rows differ from what the sandbox and the services derive
    from the same ids (references, labels, the checkout, the notification, the credit)."""
    problems: list[str] = []
    top_ups = (
        TopUp.objects.filter(user__username__regex=r"^bench-\d+$")
        .select_related("transfer", "user")
        .order_by("?")[: min(SAMPLE, accounts)]
    )
    for top_up in top_ups:
        reference = sandbox.checkout_reference(top_up.pk)
        label = sandbox.payer_label(top_up.pk)
        movement = SandboxMovement.objects.get(reference=reference)
        event = ProviderEvent.objects.get(provider=sandbox.NAME, reference=reference)
        expected_payload = {
            "type": NotificationKind.TOP_UP_SUCCEEDED.value,
            "data": {
                "reference": reference,
                "amount": top_up.amount,
                "currency": top_up.currency,
                "payer_label": label,
                "reason": "",
            },
        }
        transfer = top_up.transfer
        credit = (
            (transfer.kind, transfer.reference, transfer.description)
            if transfer is not None
            else None
        )
        legs = sorted(
            Entry.objects.filter(transfer=transfer).values_list("account__code", "amount")
        )
        resolved_at = top_up.resolved_at or top_up.expires_at
        checks = {
            "provider reference": top_up.provider_reference == reference,
            "checkout url": top_up.checkout_url
            == reverse("sandbox-checkout", kwargs={"reference": reference}),
            "payer label": top_up.payer_label == label == movement.label,
            "movement": (movement.kind, movement.amount)
            == (SandboxMovementKind.RECEIVED, top_up.amount),
            "notification": (event.kind, event.outcome, event.payload)
            == (NotificationKind.TOP_UP_SUCCEEDED.value, "applied", expected_payload),
            "credit": credit
            == (TransferKind.TOP_UP, f"{sandbox.NAME}:{reference}", TOP_UP_DESCRIPTION),
            "legs": legs
            == sorted(
                [
                    (provider_account_code(sandbox.NAME), -top_up.amount),
                    (f"wallet:{top_up.user.public_id}", top_up.amount),
                ]
            ),
            "moments": top_up.created_at
            < movement.created_at
            < event.received_at
            < resolved_at
            < top_up.expires_at,
        }
        problems.extend(f"top-up {top_up.pk}: {name}" for name, ok in checks.items() if not ok)
    return problems


def _run() -> tuple[float, ReconciliationReport]:
    started = time.perf_counter()
    report = reconcile()
    return time.perf_counter() - started, report


def _tamper(accounts: int) -> bool:
    """One cent more on one wallet's cached balance: the report must name that wallet
    (its balance is not the sum of its entries), and the customer funds differ by 1."""
    code, account_id = execute(
        "SELECT code, id FROM wallet_ledgeraccount WHERE kind = %(wallet)s "
        "ORDER BY id OFFSET %(middle)s LIMIT 1",
        {"wallet": AccountKind.WALLET.value, "middle": accounts // 2},
    )[0]
    execute(
        "UPDATE wallet_ledgeraccount SET balance = balance + 1 WHERE id = %(id)s",
        {"id": account_id},
    )
    # The report logs the error that operators alert on; here the report is printed.
    logging.getLogger("wallet.payments.reconciliation").setLevel(logging.CRITICAL)
    seconds, report = _run()
    named = [
        problem
        for problem in report.problems
        if problem["check"] == "balance_is_sum_of_entries" and problem["subject"] == code
    ]
    print(
        f"tampered: {code} one cent more: {seconds:.2f} s; ok: {str(report.ok).lower()}; "
        f"difference: {report.difference}"
    )
    for problem in report.problems:
        print(
            f"  {problem['check']}: {problem['subject']} expected {problem['expected']}, "
            f"found {problem['actual']}"
        )
    found = not report.ok and report.difference == 1 and len(named) == 1
    print(f"  names the tampered account: {'true' if found else 'false'}", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000, help="N citizens")
    parser.add_argument("--repeat", type=int, default=3, help="R timed reconciliations")
    parser.add_argument(
        "--tamper",
        action="store_true",
        help="then add one cent to one wallet's balance and show the report naming it",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the bench database to look at (dropdb it)"
    )
    args = parser.parse_args()
    if args.accounts < 1 or args.repeat < 1:
        parser.error("--accounts and --repeat must be at least 1")
    if connection.vendor != "postgresql":
        sys.exit(
            "bench.reconcile measures PostgreSQL (generate_series, session_replication_role); "
            f"the configured database is {connection.vendor}. Run it with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame"
        )
    # A log line per service call and per report is noise here.
    logging.getLogger().setLevel(logging.WARNING)

    # A database of its own, so a benchmark never touches the test suite's.
    settings.DATABASES["default"]["TEST"]["NAME"] = BENCH_DATABASE
    # Django notes on stderr that it replaces an existing database: expected here.
    with contextlib.redirect_stderr(io.StringIO()):
        old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    failed = False
    try:
        _generate(args.accounts)
        problems = _sample_problems(args.accounts)
        for problem in problems[:10]:
            print(f"generated row unlike the services': {problem}")
        if len(problems) > 10:
            print(f"... and {len(problems) - 10} more")
        failed = bool(problems)
        transfers, entries = _count("wallet_transfer"), _count("wallet_entry")
        print(
            f"database: {connection.vendor} ({BENCH_DATABASE}); {args.accounts} accounts, "
            f"{transfers} transfers, {entries} entries, {_count('wallet_topup')} top-ups",
            flush=True,
        )
        runs = []
        for number in range(1, args.repeat + 1):
            seconds, report = _run()
            runs.append((seconds, report))
            print(
                f"run {number}: {seconds:.2f} s; ok: {str(report.ok).lower()}; "
                f"difference: {report.difference}",
                flush=True,
            )
            for problem in report.problems[:10]:
                print(f"  {problem}")
        print(
            f"report: customer funds {report.customer_funds}, provider funds "
            f"{report.provider_funds} (legacy {report.legacy_funds}), in transit "
            f"{report.in_transit}; providers {report.providers}"
        )
        if args.tamper and not _tamper(args.accounts):
            failed = True
    finally:
        connection.close()
        if args.keep:
            print(f"kept {BENCH_DATABASE} (drop it with: dropdb {BENCH_DATABASE})")
        else:
            teardown_databases(old_config, verbosity=0)

    times = [seconds for seconds, _ in runs]
    ok = all(report.ok for _, report in runs)
    difference = runs[-1][1].difference
    print(
        f"reconcile: {args.accounts} accounts, {transfers} transfers, {entries} entries: "
        f"median {statistics.median(times):.2f} s (min {min(times):.2f} s, max "
        f"{max(times):.2f} s, {len(times)} runs); ok: {'true' if ok else 'false'}; "
        f"difference: {difference}"
    )
    if failed or not ok or any(report.difference for _, report in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
