"""Create a merchant and its first API key, printed once on the last line."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.domain import InvalidRequest
from merchants import services
from merchants.models import ALL_SCOPES, MerchantCategory
from merchants.perks import services as perks_services


class Command(BaseCommand):
    help = (
        "Create a merchant with its settlement account and a new API key. A hotel or rental "
        "gets an active deposit-waiver perk with the default rules; on the sandbox provider, a "
        "sandbox bank account to be paid out to. The key is printed "
        "once, alone on the last line: store it now, it cannot be shown again. The key has "
        "every scope unless --scopes names fewer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The merchant's name, as citizens will see it.")
        parser.add_argument(
            "--category",
            required=True,
            choices=MerchantCategory.values,
            help="What the merchant is.",
        )
        parser.add_argument(
            "--key-name", default="created with create_merchant", help="What the key is for."
        )
        parser.add_argument(
            "--scopes",
            default=",".join(ALL_SCOPES),
            help=f"What the key may do, comma-separated, from {', '.join(ALL_SCOPES)} "
            "(default: all of them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name or len(name) > 200:
            raise CommandError("The name must be 1 to 200 characters.")
        try:
            # Checked before the merchant is made: a typo makes nothing.
            scopes = services.api_key_scopes_clean(
                part for part in options["scopes"].split(",") if part.strip()
            )
        except InvalidRequest as error:
            raise CommandError(f"--scopes: {error.detail}") from error
        merchant = perks_services.merchant_onboard(name=name, category=options["category"])
        api_key, raw_key = services.api_key_create(
            merchant=merchant, name=options["key_name"], scopes=scopes
        )
        perks = ", ".join(perk.get_kind_display() for perk in merchant.perks.all()) or "none"
        self.stdout.write(f"Created {merchant.get_category_display().lower()} {merchant.name!r}.")
        self.stdout.write(f"Merchant id: {merchant.pk}")
        self.stdout.write(f"Perks: {perks}")
        self.stdout.write(
            f"Payouts to: {merchant.payout_destination or 'nowhere yet (enter it in the admin)'}"
        )
        self.stdout.write(f"Scopes: {', '.join(api_key.scopes)}")
        self.stdout.write(f"API key {api_key.prefix}… (shown once, store it now):")
        self.stdout.write(raw_key)
