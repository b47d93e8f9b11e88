from django.urls import path

from merchants.privacy.api import closure, export

urlpatterns = [
    path("me/export", export.ExportView.as_view(), name="me-export"),
    path("me/close", closure.AccountCloseView.as_view(), name="me-close"),
]
