from django.urls import path

from governance.api import views

urlpatterns = [
    path("me/monitoring", views.MonitoringView.as_view(), name="me-monitoring"),
]
