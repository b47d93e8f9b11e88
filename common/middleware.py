"""Request and response guards that apply to every view, DRF's or not.

- :class:`RequestSizeMiddleware` refuses a body over the size limit before anything
  reads it: 413 problem details under ``/api/``, a plain HTML 413 elsewhere.
- :class:`PrivateResponseMiddleware` keeps pages with personal data out of every cache
  (``Cache-Control: no-store``) and gives the admin and the API docs the same Content
  Security Policy as the citizen app.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape

from common.errors import PROBLEM_CONTENT_TYPE, request_too_large_problem

# Paths whose every response may carry personal data (the API, the admin, the merchant
# console, the sandbox's checkout page): never stored by a browser or a proxy.
PRIVATE_PATH_PREFIXES = ("/api/", "/admin/", "/merchant/", "/sandbox/")
# Server-rendered pages that are not the app's shell (which sets its own policy).
CSP_PATH_PREFIXES = ("/admin/", "/api/docs/")

Handler = Callable[[HttpRequest], HttpResponseBase]


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def body_size_limit(request: HttpRequest) -> int | None:
    """The largest body this request may carry, in bytes (``None``: no limit).

    A multipart upload (claim evidence, an identity document) may carry files up to
    ``UPLOAD_MAX_REQUEST_BYTES``; anything else, ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    if request.content_type == "multipart/form-data":
        return settings.UPLOAD_MAX_REQUEST_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def request_too_large(request: HttpRequest) -> HttpResponse:
    """413: problem details for the API, a short page for people."""
    if _is_api(request):
        response: HttpResponse = JsonResponse(
            request_too_large_problem(), status=413, content_type=PROBLEM_CONTENT_TYPE
        )
    else:
        response = HttpResponse(
            "<!doctype html><html lang=en><meta charset=utf-8><title>Request too large"
            "</title><h1>Request too large</h1><p>"
            + escape("The form or file you sent is larger than this page accepts.")
            + "</p></html>",
            status=413,
            content_type="text/html; charset=utf-8",
        )
    return response


class RequestSizeMiddleware:
    """Refuses a request whose ``Content-Length`` is over the limit, before any code
    (a parser, CSRF's form read, a view) reads its body, and turns Django's own refusal
    of a body read past the limit (``RequestDataTooBig``, otherwise a 400) into a 413."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = body_size_limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # as Django reads it: an unreadable length is no body
        if limit is not None and length > limit:
            return request_too_large(request)
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if isinstance(exception, RequestDataTooBig):
            return request_too_large(request)
        return None


class PrivateResponseMiddleware:
    """``Cache-Control: no-store`` (Django's ``add_never_cache_headers``) on every
    response under :data:`PRIVATE_PATH_PREFIXES`, and the app's Content Security Policy
    on the API docs and the admin (``CONTENT_SECURITY_POLICY``,
    ``ADMIN_CONTENT_SECURITY_POLICY``); a response that sets its own policy keeps it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        path = request.path
        if path.startswith(PRIVATE_PATH_PREFIXES):
            add_never_cache_headers(response)
        if path.startswith(CSP_PATH_PREFIXES) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = (
                settings.ADMIN_CONTENT_SECURITY_POLICY
                if path.startswith("/admin/")
                else settings.CONTENT_SECURITY_POLICY
            )
        return response
