from django.urls import path

from merchants.api import views

urlpatterns = [
    # Merchants' systems (API key)
    path("merchant/consents", views.MerchantConsentRedeemView.as_view(), name="merchant-consents"),
    path("merchant/payouts", views.MerchantPayoutListView.as_view(), name="merchant-payouts"),
    # Citizens
    path(
        "me/authorization-codes",
        views.AuthorizationCodeView.as_view(),
        name="me-authorization-codes",
    ),
    path("me/consents", views.ConsentListView.as_view(), name="me-consents"),
    # me/consents/<id>/revoke is the perks app's (a revocation cancels bookings too)
]
