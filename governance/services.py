"""Governance's writes: staff members, their roles and their two-factor devices."""

import logging

from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.errors import NotStaff, StaffOtpAlreadyEnrolled
from governance.roles import ROLES_BY_NAME
from wallet.models import User

logger = logging.getLogger(__name__)


@transaction.atomic
def staff_otp_enrol(*, user: User, replace: bool = False) -> TOTPDevice:
    """A new confirmed TOTP device for a member of staff: from now on they sign in to
    the admin with its codes. An account has one device; replacing it (a lost phone)
    must be asked for (``replace``), since the old device stops working at once."""
    if not user.is_staff:
        raise NotStaff()
    existing = TOTPDevice.objects.devices_for_user(user, confirmed=None)
    if existing.exists() and not replace:
        raise StaffOtpAlreadyEnrolled()
    replaced = existing.delete()[0]
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    logger.info("staff otp enrolled", extra={"user_id": user.pk, "replaced": bool(replaced)})
    return device


@transaction.atomic
def staff_otp_device(*, user: User) -> TOTPDevice:
    """The staff member's device, enrolled now if they have none (the demo's admin: a
    second run keeps the device the first one printed, so an authenticator app that
    scanned it keeps working)."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()
    return device if device is not None else staff_otp_enrol(user=user)


@transaction.atomic
def staff_member_ensure(*, username: str, password: str, role: str) -> User:
    """A member of staff (never a superuser) in exactly one role's group, with this
    password; created if missing. For the demo and first-run set-up: four eyes needs
    more than one person to try."""
    group = Group.objects.get(name=ROLES_BY_NAME[role].name)
    user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    user.is_staff, user.is_superuser = True, False
    user.set_password(password)
    user.save(update_fields=["is_staff", "is_superuser", "password"])
    user.groups.set([group])
    return user
