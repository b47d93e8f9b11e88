"""``manage.py seed_demo [--accounts N] [--seed S]``: a demo city with two years of history.

Writes the city's merchants (three hotels, a rental, two billers), ``N`` residents with
bills, stays, claims and the records and scores they earned (``merchants.demo``), their
top-ups paid in through the sandbox payment provider, the demo citizen ``demo`` /
``open-sesame-demo`` (with two withdrawals: one returned, one paid out) and the admin
``admin`` / ``open-sesame-admin`` (enrolled for two-factor login: its TOTP URI is
printed) and one member of staff per role (``support``, ``analyst``, ``approver``,
``ops``, same password), the console's users (``hotel-owner``, ``hotel-manager``,
``hotel-desk`` of the demo hotel, ``biller-clerk`` of the demo biller, password
``open-sesame-console``; the TOTP URIs of the owner and the manager printed). Prints a
new key of the demo biller and of the demo hotel; the hotel's key is also the last line
of the output, alone, so that ``KEY=$(python manage.py seed_demo | tail -1)`` captures it.

Safe to run again: residents and the demo citizen are only added when missing (by
username; the demo citizen's withdrawals are made once, with them), the demo citizen's
and the admin's passwords are reset, every score is recomputed, and each run revokes the
demo keys that earlier runs printed before printing new ones (only the last printed keys
work). The city's money came in through the sandbox, so the daily reconciliation finds
every cent of it there.

It refuses to run with ``DEBUG=0`` (a production-like system, where it would make the
superuser ``admin`` with a published password) unless ``--allow-production`` says so
on purpose, for a staging system.
"""

from __future__ import annotations

import gc
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from common.money import format_money
from governance import roles
from governance import services as governance_services
from governance.models import AnalysisRun, AnalysisStatus
from merchants.bills import selectors
from merchants.bills.models import BillStatus
from merchants.demo import city, fairness, write
from merchants.demo.console import DEMO_CONSOLE_PASSWORD, console_users_ensure
from merchants.demo.plan import STORIES, STORY_DISPUTED_CLAIM, Planner
from scoring import selectors as scoring_selectors
from scoring.facts import BAND_LABELS
from wallet import services as wallet_services
from wallet.models import LedgerAccount, User
from wallet.payments import sandbox
from wallet.payments import selectors as payments_selectors

# The resident whose story is a claim disputed and still open.
STORY_DISPUTED_CLAIM_RESIDENT = next(
    n for n, story in STORIES.items() if story == STORY_DISPUTED_CLAIM
)
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "open-sesame-demo"  # noqa: S105 - printed for the demo, never in production
DEMO_DISPLAY_NAME = "Demo Citizen"
DEMO_BALANCE = 250_000  # 2,500.00 available at the end, after the demo's withdrawals
DEMO_STAFF_USERNAME = "admin"
DEMO_STAFF_PASSWORD = "open-sesame-admin"  # noqa: S105 - demo only
# One member of staff per role (same password as the admin), so four eyes can be tried:
# the analyst writes and submits, the approver approves.
DEMO_STAFF_BY_ROLE = {
    "support": roles.SUPPORT.name,
    "analyst": roles.RISK_ANALYST.name,
    "approver": roles.RISK_APPROVER.name,
    "ops": roles.MERCHANT_OPS.name,
}
POPULATION_PREFIX = "resident"
MAX_ACCOUNTS = 100_000
# Enough for the fairness audit to speak: 200 residents in each wealth fifth, and most of
# the groups of what residents volunteer above the 20 members it shows figures for.
DEFAULT_ACCOUNTS = 1_000
# Residents per transaction: bounded memory, and an interrupted run keeps whole chunks
# (the next run adds the rest).
CHUNK_SIZE = 1_000


class Command(BaseCommand):
    help = (
        "Create a demo city: merchants, N residents with two years of bills, stays, claims "
        "and scores, a demo citizen and an admin. Prints the logins, a demo biller's key "
        "and the demo hotel's key, which is also the last line of the output."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--accounts",
            type=int,
            default=DEFAULT_ACCOUNTS,
            help=f"How many residents the city has (default {DEFAULT_ACCOUNTS:,}, at most "
            f"{MAX_ACCOUNTS:,}).",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even though DEBUG=0: a staging system only. It creates (or resets "
            "the password of) the superuser admin with the demo's published password.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Random seed: the same seed draws the same residents (default 2026).",
        )

    def handle(
        self, *args: Any, accounts: int, seed: int, allow_production: bool, **options: Any
    ) -> None:
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG=0: this looks like a production system, and seed_demo would create "
                "the superuser admin (or reset its password) to the demo's published "
                "password and add fake residents and merchants. Nothing was written. Run "
                "it with DEBUG=1 on a development machine, or add --allow-production on a "
                "staging system that may have both."
            )
        if not 0 <= accounts <= MAX_ACCOUNTS:
            raise CommandError(
                f"--accounts must be between 0 and {MAX_ACCOUNTS:,}, not {accounts:,}: the "
                "demo writes about 200 rows of history per resident (for millions of "
                "accounts, see bench.recompute)."
            )
        if settings.PAYMENTS_PROVIDER != sandbox.NAME:
            raise CommandError(
                "The demo city's money goes in and out through the sandbox payment provider, "
                f"not {settings.PAYMENTS_PROVIDER!r}: seed it with PAYMENTS_PROVIDER=sandbox."
            )
        verbosity = int(options.get("verbosity", 1))
        if connection.vendor == "sqlite":
            # A page cache of 256 MiB for this connection (the default is 2 MiB): the
            # history's indexes stay in memory while they are written.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")
        now = timezone.now()
        planner = Planner(
            seed=seed,
            now=now,
            tz=timezone.get_current_timezone(),
            currency=settings.WALLET_CURRENCY,
        )
        staff = wallet_services.staff_user_ensure(
            username=DEMO_STAFF_USERNAME, password=DEMO_STAFF_PASSWORD
        )
        staff_device = governance_services.staff_otp_device(user=staff)
        roles.roles_sync()
        for username, role in DEMO_STAFF_BY_ROLE.items():
            governance_services.staff_member_ensure(
                username=username, password=DEMO_STAFF_PASSWORD, role=role
            )
        with transaction.atomic():
            merchants = write.city_ensure()
        writer = write.CityWriter(planner=planner, merchants=merchants, staff=staff)
        # Before the scores are computed: every account has one.
        console_users = console_users_ensure(
            hotel=merchants[city.DEMO_HOTEL.key].merchant,
            biller=merchants[city.DEMO_BILLER.key].merchant,
        )

        demo = self._demo_citizen(writer, planner)
        written = write.Written()
        existing = set(
            User.objects.filter(username__startswith=POPULATION_PREFIX).values_list(
                "username", flat=True
            )
        )
        missing = [
            number
            for number in range(1, accounts + 1)
            if f"{POPULATION_PREFIX}{number:06d}" not in existing
        ]
        # The history makes millions of short-lived objects and no reference cycles
        # worth chasing: the cyclic collector only slows it down, so it runs once per
        # chunk instead.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for start in range(0, len(missing), CHUNK_SIZE):
                numbers = missing[start : start + CHUNK_SIZE]
                written.add(writer.write([planner.resident(number) for number in numbers]))
                gc.collect()
                if verbosity >= 2:
                    self.stdout.write(f"  {start + len(numbers):,} of {len(missing):,} residents")
        finally:
            if collecting:
                gc.enable()
        # The story of a claim disputed and still open is lived now, through the live
        # services (its hold is still held, which a history does not write).
        story = f"{POPULATION_PREFIX}{STORY_DISPUTED_CLAIM_RESIDENT:06d}"
        if STORY_DISPUTED_CLAIM_RESIDENT in missing:
            write.story_claim_disputed(user=User.objects.get(username=story))
        write.scores_recompute_all(at=timezone.now())
        story_fairness = fairness.fairness_story(
            analyst=User.objects.get(username="analyst"),
            approver=User.objects.get(username="approver"),
        )

        biller_key = write.demo_key_issue(merchant=merchants[city.DEMO_BILLER.key].merchant)
        hotel_key = write.demo_key_issue(merchant=merchants[city.DEMO_HOTEL.key].merchant)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo population: {written.residents} new resident(s), with "
                f"{written.bills:,} bills, {written.bookings:,} stays and {written.claims:,} "
                f"damage claims over two years; {written.monitoring:,} volunteered an age "
                "band or a sex for the fairness audit."
            )
        )
        self.stdout.write(
            "Merchants: " + ", ".join(f"{m.name} ({m.category})" for m in city.MERCHANTS) + "."
        )
        self.stdout.write(self._demo_summary(demo))
        self.stdout.write(self._fairness_summary(story_fairness))
        if story_fairness.fit is not None:
            self.stdout.write(self._fit_summary(story_fairness.fit))
        self.stdout.write(
            f"Admin: http://127.0.0.1:8000/admin/ as '{DEMO_STAFF_USERNAME}' / "
            f"'{DEMO_STAFF_PASSWORD}'. API docs: http://127.0.0.1:8000/api/docs/"
        )
        self.stdout.write(f"{DEMO_STAFF_USERNAME} TOTP: {staff_device.config_url}")
        self.stdout.write(
            f"Staff, password '{DEMO_STAFF_PASSWORD}': "
            + ", ".join(f"'{name}' ({role})" for name, role in DEMO_STAFF_BY_ROLE.items())
            + ". Give one a TOTP device with `manage.py staff_otp_enrol NAME`."
        )
        self.stdout.write(
            f"Merchant console: http://127.0.0.1:8000/merchant/ , password "
            f"'{DEMO_CONSOLE_PASSWORD}' for "
            + ", ".join(f"'{u.username}' ({u.role}, {u.merchant.name})" for u in console_users)
            + (
                ". Owners and managers then type a code from an authenticator app that "
                "scanned their TOTP URI:"
                if settings.CONSOLE_OTP_REQUIRED
                else ". With CONSOLE_OTP_REQUIRED=1, owners and managers also type a code from "
                "an authenticator app that scanned their TOTP URI:"
            )
        )
        for console_user in console_users:
            if console_user.device is not None:
                self.stdout.write(f"{console_user.username} TOTP: {console_user.device.config_url}")
        self.stdout.write(f"Demo biller key ({city.DEMO_BILLER.name}): {biller_key}")
        self.stdout.write(f"Demo hotel key ({city.DEMO_HOTEL.name}): {hotel_key}")
        self.stdout.write(
            "Keys printed by earlier runs no longer work. The demo hotel key, alone on the "
            "last line:"
        )
        self.stdout.write(hotel_key)

    def _demo_citizen(self, writer: write.CityWriter, planner: Planner) -> User:
        """The demo citizen with their history the first time; later, the password reset."""
        demo = User.objects.filter(username=DEMO_USERNAME).first()
        if demo is not None:
            wallet_services.user_password_set(user=demo, password=DEMO_PASSWORD)
            if not selectors.bills_for_citizen(citizen=demo).exists():
                self.stderr.write(
                    "The demo citizen has no history: this database was seeded by an older "
                    "seed_demo. Delete db.sqlite3 and run it again for the full demo."
                )
            elif payments_selectors.payout_destination(user=demo) is None:
                self.stderr.write(
                    "The demo citizen's top-ups did not go through a payment provider: this "
                    "database was seeded by an older seed_demo, and withdrawing has nowhere "
                    "to pay out to. Delete db.sqlite3 and run it again for the full demo."
                )
            return demo
        # The history ends with what the withdrawals then take out on top of the balance.
        plan = planner.demo(
            username=DEMO_USERNAME,
            display_name=DEMO_DISPLAY_NAME,
            balance=DEMO_BALANCE + write.DEMO_WITHDRAWAL_PAID,
        )
        writer.write([plan], passwords={DEMO_USERNAME: make_password(DEMO_PASSWORD)})
        demo = User.objects.get(username=DEMO_USERNAME)
        write.demo_withdrawals(user=demo)
        write.demo_upcoming_stay(user=demo, hotel=writer.merchants[city.DEMO_HOTEL.key])
        write.demo_claim_awaiting(user=demo)
        return demo

    def _fairness_summary(self, story: fairness.FairnessStory) -> str:
        def shown(ratio: float | None) -> str:
            return "-" if ratio is None else f"{ratio:.2f}"

        line = (
            "Fairness (lowest wealth fifth's waiver rate over the highest's): live "
            f"{shown(story.live_ratio)}"
        )
        if story.live_auc is not None:
            line += f" (AUC of outcomes by score {shown(story.live_auc)})"
        if story.draft_ratio is not None:
            line += f"; draft v2 {shown(story.draft_ratio)} (AUC {shown(story.draft_auc)})"
        if story.approved_version is not None:
            line += (
                f"; v{story.approved_version} audited by 'analyst' and approved by 'approver' "
                "(admin: Fairness; public: /transparency)"
            )
        return line + "."

    def _fit_summary(self, run: AnalysisRun) -> str:
        """One line: the draft fitted from the city's outcomes, or why none could be."""
        if run.status != AnalysisStatus.DONE or run.scorecard is None:
            return f"Fit from outcomes: no draft ({run.error or run.get_status_display()})."
        report = run.result or {}
        test, live = report["metrics"]["test"], report["metrics"]["active_test"]
        return (
            f"Fit from outcomes: draft v{run.scorecard.version} fitted by 'analyst' "
            f"(out of time: test AUC {test['auc']:.2f}, the live version's {live['auc']:.2f}), "
            "audited and backtested, awaiting review (admin: Analysis runs, Scorecards)."
        )

    def _demo_summary(self, demo: User) -> str:
        wallet = LedgerAccount.objects.get(user=demo)
        currency = settings.WALLET_CURRENCY
        text = (
            f"Demo citizen: username '{DEMO_USERNAME}', password '{DEMO_PASSWORD}' "
            f"(available {format_money(wallet.available, currency)}"
        )
        snapshot = scoring_selectors.score_current(account=demo)
        if snapshot is not None:
            text += f"; score {snapshot.score}, {BAND_LABELS[snapshot.band].lower()}"
        bill = (
            selectors.bills_for_citizen(citizen=demo, status=BillStatus.OPEN)
            .order_by("due_date")
            .first()
        )
        if bill is not None:
            text += (
                f"; a bill of {format_money(bill.amount, bill.currency)} from "
                f"{bill.merchant.name} due {bill.due_date.isoformat()}"
            )
        return text + ")."
