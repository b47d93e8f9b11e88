from django.urls import path

from merchants.api import disputes, views

urlpatterns = [
    # Merchants' systems (API key)
    # GET lists the merchant's consents, POST redeems a code (MerchantConsentRedeemView)
    path("merchant/consents", views.MerchantConsentListView.as_view(), name="merchant-consents"),
    path(
        "merchant/consents/<uuid:pk>",
        views.MerchantConsentDetailView.as_view(),
        name="merchant-consent",
    ),
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
