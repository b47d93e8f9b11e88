"""The merchant console, ``/merchant/``: one module of views per area."""

from merchants.console.views import account, billing, desk, integration, manage, team

app_name = "console"

urlpatterns = [
    *account.urlpatterns,
    *team.urlpatterns,
    *integration.urlpatterns,
    *desk.urlpatterns,
    *manage.urlpatterns,
    *billing.urlpatterns,
]
