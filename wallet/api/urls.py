from django.urls import path

from wallet.api import identity, views

urlpatterns = [
    path("auth/csrf", views.CsrfView.as_view(), name="auth-csrf"),
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/token", views.TokenView.as_view(), name="auth-token"),
    path("me", views.MeView.as_view(), name="me"),
    path("me/wallet", views.WalletView.as_view(), name="me-wallet"),
    path("me/transactions", views.TransactionListView.as_view(), name="me-transactions"),
    path("me/phone", identity.PhoneView.as_view(), name="me-phone"),
    path("me/phone/verify", identity.PhoneVerifyView.as_view(), name="me-phone-verify"),
    path(
        "me/identity-documents",
        identity.IdentityDocumentListView.as_view(),
        name="me-identity-documents",
    ),
]
