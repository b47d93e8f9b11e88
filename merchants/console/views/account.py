"""Signing in and out of the console, the second factor, and the home page.

Sign-in goes through ``django.contrib.auth.authenticate(request=...)``, so django-axes
counts failures and locks the account out (its middleware answers the locked attempt).
Owners and managers then pass a TOTP code (django-otp); one with no device yet enrols
one first: a QR code for the authenticator app, confirmed with a code it shows."""

from __future__ import annotations

from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token

from merchants.console.access import MANAGE, active_member, console_view, second_factor_missing
from merchants.console.account_forms import CodeForm, SignInForm
from merchants.console.nav import nav_for
from merchants.console.selectors.integration import endpoints_disabled_of
from merchants.console.services import account as account_services

CONSOLE_PREFIX = "/merchant/"


def next_url(request: HttpRequest) -> str:
    """Where to go after signing in: the ``next`` given, if it is a console page of this
    site; else the home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith(CONSOLE_PREFIX)
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and not candidate.startswith(reverse("console:login"))
    ):
        return candidate
    return reverse("console:home")


def _after_password(request: HttpRequest) -> HttpResponse:
    member = active_member(request.user)
    target = next_url(request)
    if member is not None and second_factor_missing(request, member):
        return redirect(f"{reverse('console:otp')}?next={target}")
    return redirect(target)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request=request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is not None:
            auth_login(request, user)
            return _after_password(request)
        # A locked-out account: axes' middleware answers instead of this page.
        form.add_error(None, _("The username or the password is not right."))
    status = 400 if form.errors else 200
    return render(
        request, "console/login.html", {"form": form, "next": next_url(request)}, status=status
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.success(request, _("You signed out."))
    return redirect("console:login")


@never_cache
@require_http_methods(["GET", "POST"])
def otp(request: HttpRequest) -> HttpResponse:
    """The second factor: verify a code, or enrol a first device and confirm it."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('console:login')}?next={request.get_full_path()}")
    member = active_member(request.user)
    if member is None:
        return render(request, "console/not_member.html", status=403)
    target = next_url(request)
    if not second_factor_missing(request, member):
        return redirect(target)
    user = request.user
    form = CodeForm(request.POST or None)
    devices = account_services.otp_devices_confirmed(user=user)
    if devices:
        if request.method == "POST" and form.is_valid():
            device = match_token(user, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return redirect(target)
            form.add_error("code", _("This code is not right, or too old. Try the next one."))
        return render(
            request,
            "console/otp_verify.html",
            {"form": form, "next": target},
            status=400 if form.errors else 200,
        )
    device = account_services.otp_enrolment_start(user=user)
    if request.method == "POST" and form.is_valid():
        if account_services.otp_enrolment_confirm(
            member=member, device=device, token=form.cleaned_data["code"]
        ):
            otp_login(request, device)
            messages.success(request, _("Two-step sign-in is on for your account."))
            return redirect(target)
        form.add_error("code", _("This code is not right, or too old. Try the next one."))
    context = {
        "form": form,
        "next": target,
        "qr_svg": mark_safe(account_services.otp_qr_svg(device)),  # noqa: S308 - our own SVG
        "secret": _base32(device.bin_key),
    }
    return render(request, "console/otp_enrol.html", context, status=400 if form.errors else 200)


def _base32(key: bytes) -> str:
    """The key as authenticator apps take it typed: base32 in groups of four."""
    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[index : index + 4] for index in range(0, len(text), 4))


@console_view()
def home(request: HttpRequest) -> HttpResponse:
    member = request.member  # type: ignore[attr-defined]
    disabled = (
        list(endpoints_disabled_of(merchant=member.merchant)) if member.role in MANAGE else []
    )
    return render(
        request,
        "console/home.html",
        {"pages": nav_for(member), "disabled_endpoints": disabled},
    )


urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
    path("login/", login, name="login"),
    path("logout/", logout, name="logout"),
    path("otp/", otp, name="otp"),
]
