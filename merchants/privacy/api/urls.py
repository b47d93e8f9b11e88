from django.urls import path

from merchants.privacy.api import export

urlpatterns = [
    path("me/export", export.ExportView.as_view(), name="me-export"),
]
