"""The public pages of governance: ``/transparency`` (and ``/transparency/``, sent there)."""

from django.urls import path
from django.views.generic import RedirectView

from governance import views

app_name = "governance"

urlpatterns = [
    path("", views.transparency, name="transparency"),
    path("/", RedirectView.as_view(pattern_name="governance:transparency", permanent=True)),
]
