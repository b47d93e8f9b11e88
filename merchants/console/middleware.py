"""The server-rendered pages for people outside staff (the merchant console under
/merchant/, the public transparency page) speak the browser's language (English, Spanish
or Chinese) or the one chosen with their switcher (Django's ``set_language``, a cookie);
everything else (the API, the admin, the citizen app) stays as it was. Django's
``LocaleMiddleware`` would translate the API's messages too, which clients match on.

Which paths: ``settings.LOCALIZED_PATH_PREFIXES``."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


def localized(path: str) -> bool:
    """Whether a request for ``path`` is answered in the visitor's language."""
    return path.startswith(tuple(settings.LOCALIZED_PATH_PREFIXES))


class ConsoleLocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not localized(request.path):
            return self.get_response(request)
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        # The console's own policy, on every localised page: no inline script or style.
        response.headers.setdefault(
            "Content-Security-Policy", settings.CONSOLE_CONTENT_SECURITY_POLICY
        )
        return response
