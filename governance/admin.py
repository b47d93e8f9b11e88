"""Who may do what is for superusers alone: the Group admin and the two-factor devices'
admins answer nobody else, whatever permissions a member of staff was given.

A member of staff who could edit a group could add any permission to their own role;
one who could add a device to another account could sign in as that account's owner."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.http import HttpRequest
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice


class SuperusersOnlyMixin:
    """Every permission of the admin is the superuser's, and only theirs."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


class GroupAdmin(SuperusersOnlyMixin, DjangoGroupAdmin):
    pass


class TOTPDeviceSuperusersAdmin(SuperusersOnlyMixin, TOTPDeviceAdmin):
    pass


class StaticDeviceSuperusersAdmin(SuperusersOnlyMixin, StaticDeviceAdmin):
    pass


_REPLACED: tuple[tuple[type[Model], type[admin.ModelAdmin]], ...] = (
    (Group, GroupAdmin),
    (TOTPDevice, TOTPDeviceSuperusersAdmin),
    (StaticDevice, StaticDeviceSuperusersAdmin),
)
for _model, _model_admin in _REPLACED:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)
