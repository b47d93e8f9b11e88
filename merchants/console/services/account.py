"""The console's second factor: a member's TOTP device (django-otp), enrolled on first
sign-in (a QR code, then a code from the authenticator app confirms it)."""

from __future__ import annotations

import qrcode  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.console.services.actions import action_record
from merchants.models import MerchantMember
from wallet.models import User

DEVICE_NAME = "console"


def otp_devices_confirmed(*, user: User) -> list[TOTPDevice]:
    """The user's confirmed TOTP devices (read)."""
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk"))


@transaction.atomic
def otp_enrolment_start(*, user: User) -> TOTPDevice:
    """The unconfirmed device the user is enrolling: the one already started (so a
    reloaded page shows the same QR), or a new one."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False, name=DEVICE_NAME)
        .order_by("pk")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def otp_enrolment_confirm(*, member: MerchantMember, device: TOTPDevice, token: str) -> bool:
    """Confirm the device with a code it generated now; False (nothing changes) for a
    wrong code. Other unconfirmed devices of the user are dropped."""
    locked = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=member.user)
    if locked.confirmed or not locked.verify_token(token):
        return False
    locked.confirmed = True
    locked.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=member.user, confirmed=False).exclude(pk=locked.pk).delete()
    action_record(member=member, verb="otp.enrol", target_id=locked.pk)
    device.confirmed = True
    return True


def otp_qr_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` URI as an SVG QR code (no inline style: the console's
    CSP allows none)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    svg: str = image.to_string(encoding="unicode")
    return svg


@transaction.atomic
def otp_device_ensure(*, user: User) -> TOTPDevice:
    """The user's confirmed device, made if missing (the demo's owners and managers: a
    second run keeps the device the first printed, so a scanned app keeps working)."""
    devices = otp_devices_confirmed(user=user)
    if devices:
        return devices[0]
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)


@transaction.atomic
def otp_reset(*, user_ids: list[int]) -> int:
    """Staff forget the TOTP devices of these users (a lost phone): each enrols a new one
    at their next sign-in. How many devices were removed."""
    removed, _ = TOTPDevice.objects.filter(user_id__in=user_ids).delete()
    return removed
