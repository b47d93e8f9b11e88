from django.urls import path

from merchants.perks.api import claims, listing, views

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
        claims.MerchantBookingCompleteView.as_view(),
        name="merchant-booking-complete",
    ),
    path(
        "merchant/bookings/<uuid:pk>/cancel",
        views.MerchantBookingCancelView.as_view(),
        name="merchant-booking-cancel",
    ),
    path(
        "merchant/bookings/<uuid:pk>/check-in",
        views.MerchantBookingCheckInView.as_view(),
        name="merchant-booking-check-in",
    ),
    path(
        "merchant/claims/<uuid:pk>/evidence",
        claims.MerchantClaimEvidenceView.as_view(),
        name="merchant-claim-evidence-add",
    ),
    path(
        "merchant/claims/<uuid:pk>/evidence/<uuid:evidence_id>",
        claims.MerchantClaimEvidenceDownloadView.as_view(),
        name="merchant-claim-evidence",
    ),
    # Citizens
    path(
        "me/consents/<uuid:pk>/revoke", views.ConsentRevokeView.as_view(), name="me-consent-revoke"
    ),
    path("me/bookings", views.CitizenBookingListView.as_view(), name="me-bookings"),
    path("me/decisions", views.CitizenDecisionListView.as_view(), name="me-decisions"),
    path("me/claims", claims.CitizenClaimListView.as_view(), name="me-claims"),
    path("me/claims/<uuid:pk>", claims.CitizenClaimDetailView.as_view(), name="me-claim"),
    path("me/claims/<uuid:pk>/accept", claims.ClaimAcceptView.as_view(), name="me-claim-accept"),
    path("me/claims/<uuid:pk>/pay", claims.ClaimPayView.as_view(), name="me-claim-pay"),
    path("me/claims/<uuid:pk>/dispute", claims.ClaimDisputeView.as_view(), name="me-claim-dispute"),
    path(
        "me/claims/<uuid:pk>/evidence/<uuid:evidence_id>",
        claims.CitizenClaimEvidenceDownloadView.as_view(),
        name="me-claim-evidence",
    ),
    path("me/perks", listing.PerksView.as_view(), name="me-perks"),
]
