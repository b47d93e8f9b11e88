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
    # Citizens
    path("me/bookings", views.CitizenBookingListView.as_view(), name="me-bookings"),
    path("me/claims", views.CitizenClaimListView.as_view(), name="me-claims"),
    path("me/claims/<uuid:pk>/pay", views.ClaimPayView.as_view(), name="me-claim-pay"),
    path("me/claims/<uuid:pk>/dispute", views.ClaimDisputeView.as_view(), name="me-claim-dispute"),
    path("me/perks", listing.PerksView.as_view(), name="me-perks"),
]
