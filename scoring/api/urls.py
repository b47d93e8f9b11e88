from django.urls import path

from scoring.api import views

urlpatterns = [
    path("me/score", views.ScoreView.as_view(), name="me-score"),
    path("me/score/history", views.ScoreHistoryView.as_view(), name="me-score-history"),
    path("me/score/simulate", views.ScoreSimulateView.as_view(), name="me-score-simulate"),
    path("me/events", views.EventListView.as_view(), name="me-events"),
    path("me/disputes", views.DisputeListView.as_view(), name="me-disputes"),
    path(
        "me/disputes/<uuid:pk>/escalate",
        views.DisputeEscalateView.as_view(),
        name="me-dispute-escalate",
    ),
    path("me/access-log", views.AccessLogView.as_view(), name="me-access-log"),
]
