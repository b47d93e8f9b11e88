"""``django.contrib.admin``, installed with the site that asks staff for a second factor
(``governance.otp.StaffAdminSite``). INSTALLED_APPS names this instead of
"django.contrib.admin"; the site itself is imported once the apps are ready."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "governance.otp.StaffAdminSite"
