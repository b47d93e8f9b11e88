"""The console speaks the browser's language (English, Spanish or Chinese) or the one
chosen with its switcher (Django's ``set_language``, a cookie); everything else (the API,
the admin, the citizen app) stays as it was. Django's ``LocaleMiddleware`` would
translate the API's messages too, which clients match on."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

CONSOLE_PREFIX = "/merchant/"


class ConsoleLocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(CONSOLE_PREFIX):
            return self.get_response(request)
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        # The console's own policy: no inline script or style on any /merchant/ page.
        response.headers.setdefault(
            "Content-Security-Policy", settings.CONSOLE_CONTENT_SECURITY_POLICY
        )
        return response
