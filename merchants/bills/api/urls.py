from django.urls import path

from merchants.bills.api import views

urlpatterns = [
    # Billers' systems (API key)
    path("merchant/bills", views.MerchantBillListView.as_view(), name="merchant-bills"),
    path("merchant/bills/<uuid:pk>", views.MerchantBillDetailView.as_view(), name="merchant-bill"),
    # Citizens
    path("me/bills", views.CitizenBillListView.as_view(), name="me-bills"),
    path("me/bills/<uuid:pk>/pay", views.BillPayView.as_view(), name="me-bill-pay"),
]
