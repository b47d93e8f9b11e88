"""Signing in and out of the console. (A first version: the second factor, invitations
and the home page come next.)"""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse_lazy

from merchants.console.access import console_view


@console_view()
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html")


def otp(request: HttpRequest) -> HttpResponse:
    return render(request, "console/not_member.html", status=403)


urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="console/login.html"),
        name="login",
    ),
    path(
        "logout/",
        auth_views.LogoutView.as_view(next_page=reverse_lazy("console:login")),
        name="logout",
    ),
    path("otp/", otp, name="otp"),
]
