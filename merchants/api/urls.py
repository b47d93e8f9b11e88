from django.urls import path

from merchants.api import disputes, views

urlpatterns = [
    # Merchants' systems (API key)
    path("merchant/consents", views.MerchantConsentRedeemView.as_view(), name="merchant-consents"),
    path("merchant/payouts", views.MerchantPayoutListView.as_view(), name="merchant-payouts"),
    path("merchant/disputes", disputes.MerchantDisputeListView.as_view(), name="merchant-disputes"),
    path(
        "merchant/disputes/<uuid:pk>/verify",
        disputes.MerchantDisputeVerifyView.as_view(),
        name="merchant-dispute-verify",
    ),
    path(
        "merchant/disputes/<uuid:pk>/correct",
        disputes.MerchantDisputeCorrectView.as_view(),
        name="merchant-dispute-correct",
    ),
    # Citizens
    path(
        "me/authorization-codes",
        views.AuthorizationCodeView.as_view(),
        name="me-authorization-codes",
    ),
    path("me/consents", views.ConsentListView.as_view(), name="me-consents"),
    # me/consents/<id>/revoke is the perks app's (a revocation cancels bookings too)
]
