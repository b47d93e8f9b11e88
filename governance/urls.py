"""The public pages of governance: ``/transparency`` (config/urls.py sends
``/transparency/`` here)."""

from django.urls import path

from governance import views

app_name = "governance"

urlpatterns = [
    path("", views.transparency, name="transparency"),
]
