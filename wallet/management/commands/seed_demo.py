"""``manage.py seed_demo [--accounts N]``: a demo population and a demo citizen.

Safe to run again: the demo citizen is reset to the known password and the population
is only added when missing. Later parts of the product (scores, merchants, bills) extend
this command with their own history.
"""

import random
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from wallet import services
from wallet.models import IdentityLevel, LedgerAccount

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "open-sesame-demo"  # noqa: S105 - printed for the demo, never in production
POPULATION_PREFIX = "resident"
DEMO_TOP_UP = 250_000  # 2,500.00
DEMO_STAFF_USERNAME = "admin"
DEMO_STAFF_PASSWORD = "open-sesame-admin"  # noqa: S105 - demo only


class Command(BaseCommand):
    help = "Create a demo population and a demo citizen (prints how to log in)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--accounts",
            type=int,
            default=200,
            help="How many residents the demo city has (default 200).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")

    def handle(self, *args: Any, accounts: int, seed: int, **options: Any) -> None:
        if accounts < 0 or accounts > 1_000_000:
            raise CommandError("--accounts must be between 0 and 1,000,000.")
        rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        with transaction.atomic():
            demo = self._demo_citizen()
            services.staff_user_ensure(username=DEMO_STAFF_USERNAME, password=DEMO_STAFF_PASSWORD)
            created = self._population(accounts, rng)
        self.stdout.write(self.style.SUCCESS(f"Demo population: {created} new resident(s)."))
        self.stdout.write(
            f"Demo citizen: username '{DEMO_USERNAME}', password '{DEMO_PASSWORD}' "
            f"(wallet balance {LedgerAccount.objects.get(user=demo).balance} minor units)."
        )
        self.stdout.write(
            f"Admin: http://127.0.0.1:8000/admin/ as '{DEMO_STAFF_USERNAME}' / "
            f"'{DEMO_STAFF_PASSWORD}'. API docs: http://127.0.0.1:8000/api/docs/"
        )

    def _demo_citizen(self) -> Any:
        user_model = get_user_model()
        demo = user_model.objects.filter(username=DEMO_USERNAME).first()
        if demo is None:
            demo = services.user_register(
                username=DEMO_USERNAME, password=DEMO_PASSWORD, display_name="Demo Citizen"
            )
            services.user_identity_level_set(user=demo, level=IdentityLevel.DOCUMENT)
            services.top_up_create(user=demo, amount=DEMO_TOP_UP, description="Welcome top-up")
        else:
            services.user_password_set(user=demo, password=DEMO_PASSWORD)
        return demo

    def _population(self, count: int, rng: random.Random) -> int:
        """Residents with varied identity levels and wealth, written in bulk."""
        user_model = get_user_model()
        existing = set(
            user_model.objects.filter(username__startswith=POPULATION_PREFIX).values_list(
                "username", flat=True
            )
        )
        unusable = make_password(None)
        new_users = [
            user_model(
                username=f"{POPULATION_PREFIX}{n:06d}",
                display_name=f"Resident {n}",
                identity_level=rng.choices((0, 1, 2), weights=(15, 45, 40))[0],
                password=unusable,
            )
            for n in range(1, count + 1)
            if f"{POPULATION_PREFIX}{n:06d}" not in existing
        ]
        if not new_users:
            return 0
        user_model.objects.bulk_create(new_users, batch_size=1000)
        users = list(user_model.objects.filter(username__in=[u.username for u in new_users]))
        services.wallets_open_bulk(users=users)
        wallets = dict(LedgerAccount.objects.filter(user__in=users).values_list("user_id", "pk"))
        # Wealth is log-normal and drawn independently of anything else about a person.
        amounts = {
            wallets[user.pk]: int(min(rng.lognormvariate(10.5, 1.2), 4_000_000)) for user in users
        }
        services.top_ups_bulk_create(amounts=amounts, description="Opening balance")
        return len(new_users)
