"""The public transparency page: no login, in the visitor's language (the locale
middleware, ``settings.LOCALIZED_PATH_PREFIXES``), under the console's Content Security
Policy (no inline script or style).

Not cached: its language switcher posts to ``set_language`` with the visitor's own CSRF
token, which a shared cached copy would hand to everyone. It costs a handful of queries
(``tests/governance/test_transparency.py`` bounds them)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from governance.transparency import transparency_page


@require_safe
def transparency(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "governance/transparency.html",
        {"page": transparency_page()},
    )
