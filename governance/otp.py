"""The admin site, with a second factor for every member of staff.

django-otp's ``OTPAdminSite`` treats a staff member whose session was not verified by
one of their devices as not staff at all, and asks for a TOTP code beside the password
on the login page. Whether it does is ``STAFF_OTP_REQUIRED`` (on in production), read
at each request, so the test suite and the demo can switch it without another site."""

from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.models import Device


class StaffLoginForm(OTPAdminAuthenticationForm):
    """django-otp's admin login form (password, then the code), where a member of staff
    with one device need not pick it from a list first: the code is checked against that
    device. With several, the list is shown and one must be chosen, as django-otp asks
    (a code tried against every device would count as a failure on the others)."""

    def _chosen_device(self, user: Any) -> Device | None:
        device: Device | None = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = devices[0]
        return device


class StaffAdminSite(OTPAdminSite):
    """Django's default admin site (``admin.site``, name "admin"), with the second factor
    when ``STAFF_OTP_REQUIRED``."""

    name = "admin"

    def __init__(self, name: str = "admin") -> None:
        AdminSite.__init__(self, name)

    @property
    def login_form(self) -> Any:  # type: ignore[override]
        return StaffLoginForm if settings.STAFF_OTP_REQUIRED else None

    @property
    def login_template(self) -> Any:  # type: ignore[override]
        return OTPAdminSite.login_template if settings.STAFF_OTP_REQUIRED else None

    def has_permission(self, request: HttpRequest) -> bool:
        if not AdminSite.has_permission(self, request):
            return False
        if not settings.STAFF_OTP_REQUIRED:
            return True
        is_verified = getattr(request.user, "is_verified", None)
        return bool(is_verified is not None and is_verified())
