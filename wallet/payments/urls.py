from django.urls import path

from wallet.payments import views

urlpatterns = [
    path("checkout/<str:reference>", views.sandbox_checkout, name="sandbox-checkout"),
]
