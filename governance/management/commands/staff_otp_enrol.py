"""``manage.py staff_otp_enrol USERNAME [--replace]``: a TOTP device for a member of staff."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.domain import DomainError
from governance import services
from wallet.models import User


class Command(BaseCommand):
    help = (
        "Give a member of staff a TOTP device for the admin's two-factor login and print "
        "its otpauth:// URI (add it to an authenticator app). An existing device is "
        "replaced only with --replace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace the account's device (the old one stops working at once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user {options['username']!r}.") from None
        try:
            device = services.staff_otp_enrol(user=user, replace=options["replace"])
        except DomainError as error:
            raise CommandError(f"{user.username}: {error.detail}") from None
        self.stdout.write(f"{user.username} TOTP: {device.config_url}")
