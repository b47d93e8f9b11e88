from django.urls import path

from merchants.api import export, perks, views

urlpatterns = [
    # Merchants' systems (API key)
    path("merchant/consents", views.MerchantConsentRedeemView.as_view(), name="merchant-consents"),
    path("merchant/eligibility", views.EligibilityView.as_view(), name="merchant-eligibility"),
    path("merchant/bookings", views.MerchantBookingListView.as_view(), name="merchant-bookings"),
    path(
        "merchant/bookings/<uuid:pk>",
        views.MerchantBookingDetailView.as_view(),
        name="merchant-booking",
    ),
    path(
        "merchant/bookings/<uuid:pk>/complete",
        views.MerchantBookingCompleteView.as_view(),
        name="merchant-booking-complete",
    ),
    path("merchant/bills", views.MerchantBillListView.as_view(), name="merchant-bills"),
    path("merchant/bills/<uuid:pk>", views.MerchantBillDetailView.as_view(), name="merchant-bill"),
    # Citizens
    path(
        "me/authorization-codes",
        views.AuthorizationCodeView.as_view(),
        name="me-authorization-codes",
    ),
    path("me/consents", views.ConsentListView.as_view(), name="me-consents"),
    path(
        "me/consents/<uuid:pk>/revoke", views.ConsentRevokeView.as_view(), name="me-consent-revoke"
    ),
    path("me/bookings", views.CitizenBookingListView.as_view(), name="me-bookings"),
    path("me/claims", views.CitizenClaimListView.as_view(), name="me-claims"),
    path("me/claims/<uuid:pk>/pay", views.ClaimPayView.as_view(), name="me-claim-pay"),
    path("me/claims/<uuid:pk>/dispute", views.ClaimDisputeView.as_view(), name="me-claim-dispute"),
    path("me/bills", views.CitizenBillListView.as_view(), name="me-bills"),
    path("me/bills/<uuid:pk>/pay", views.BillPayView.as_view(), name="me-bill-pay"),
    path("me/perks", perks.PerksView.as_view(), name="me-perks"),
    path("me/export", export.ExportView.as_view(), name="me-export"),
]
