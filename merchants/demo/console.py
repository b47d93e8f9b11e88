"""The demo's console users: the demo hotel's owner, manager and front desk, and the
demo biller's billing clerk, with one published password; owners and managers with a
TOTP device whose URI ``seed_demo`` prints (scan it, or compute codes from it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.console import members
from merchants.console.services.account import otp_device_ensure
from merchants.models import ROLES_WITH_SECOND_FACTOR, MemberRole, Merchant, MerchantMember
from wallet import services as wallet_services

DEMO_CONSOLE_PASSWORD = "open-sesame-console"  # noqa: S105 - demo only
# (username, role, "hotel" or "biller")
DEMO_CONSOLE_USERS: tuple[tuple[str, str, str], ...] = (
    ("hotel-owner", MemberRole.OWNER, "hotel"),
    ("hotel-manager", MemberRole.MANAGER, "hotel"),
    ("hotel-desk", MemberRole.FRONT_DESK, "hotel"),
    ("biller-clerk", MemberRole.BILLING_CLERK, "biller"),
)


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    role: str
    merchant: Merchant
    device: TOTPDevice | None


@transaction.atomic
def console_users_ensure(*, hotel: Merchant, biller: Merchant) -> list[ConsoleUser]:
    """Each demo console user, made if missing, with the demo password, a member of its
    merchant in its role (moved back to it if an earlier demo changed it)."""
    users = get_user_model().objects
    made = []
    for username, role, place in DEMO_CONSOLE_USERS:
        merchant = hotel if place == "hotel" else biller
        user = users.filter(username=username).first()
        if user is None:
            user = wallet_services.user_register(
                username=username, password=DEMO_CONSOLE_PASSWORD, display_name=username
            )
        else:
            wallet_services.user_password_set(user=user, password=DEMO_CONSOLE_PASSWORD)
        member = MerchantMember.objects.filter(user=user, removed_at__isnull=True).first()
        if member is not None and (member.merchant_id != merchant.pk or member.role != role):
            member.removed_at = timezone.now()  # an earlier demo's place, ended
            member.save(update_fields=["removed_at"])
            member = None
        if member is None:
            members.member_add(merchant=merchant, user=user, role=role)
        device = otp_device_ensure(user=user) if role in ROLES_WITH_SECOND_FACTOR else None
        made.append(ConsoleUser(username, role, merchant, device))
    return made
