from django.urls import path

from wallet.payments.api import views

urlpatterns = [
    path("me/top-ups", views.TopUpListCreateView.as_view(), name="me-top-ups"),
    path("me/top-ups/<uuid:top_up_id>", views.TopUpDetailView.as_view(), name="me-top-up"),
    path("me/withdrawals", views.WithdrawalListCreateView.as_view(), name="me-withdrawals"),
    path(
        "payments/<slug:provider>/webhook",
        views.WebhookView.as_view(),
        name="payments-webhook",
    ),
]
