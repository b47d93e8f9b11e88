from django.urls import path

from wallet.api import account, identity, views

urlpatterns = [
    path("auth/csrf", views.CsrfView.as_view(), name="auth-csrf"),
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all", account.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/token", views.TokenView.as_view(), name="auth-token"),
    path("auth/password", account.PasswordChangeView.as_view(), name="auth-password"),
    path("auth/password-reset", account.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm",
        account.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("auth/email-verify", account.EmailVerifyView.as_view(), name="auth-email-verify"),
    path("me", account.MeView.as_view(), name="me"),
    path("me/sessions", account.SignInListView.as_view(), name="me-sessions"),
    path(
        "me/sessions/<uuid:id>/revoke",
        account.SignInRevokeView.as_view(),
        name="me-session-revoke",
    ),
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
