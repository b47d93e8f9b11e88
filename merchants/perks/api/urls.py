from django.urls import path

from merchants.perks.api import listing, views

urlpatterns = [
    # Merchants' systems (API key)
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
    path(
        "merchant/bookings/<uuid:pk>/check-in",
        views.MerchantBookingCheckInView.as_view(),
        name="merchant-booking-check-in",
    ),
    # Citizens
    path(
        "me/consents/<uuid:pk>/revoke", views.ConsentRevokeView.as_view(), name="me-consent-revoke"
    ),
    path("me/bookings", views.CitizenBookingListView.as_view(), name="me-bookings"),
    path("me/claims", views.CitizenClaimListView.as_view(), name="me-claims"),
    path("me/claims/<uuid:pk>/pay", views.ClaimPayView.as_view(), name="me-claim-pay"),
    path("me/claims/<uuid:pk>/dispute", views.ClaimDisputeView.as_view(), name="me-claim-dispute"),
    path("me/perks", listing.PerksView.as_view(), name="me-perks"),
]
