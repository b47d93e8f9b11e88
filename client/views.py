"""The citizen app's three server-side pieces: the shell page, its service worker and
its web manifest. None reads the database; everything the app shows comes from
``/api/v1/`` at run time, as it would for a native client."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

STATIC_DIR = Path(__file__).resolve().parent / "static"
APP_STATIC = "client"
# What the service worker keeps for offline use: the code, styles and icons, never
# the vendored libraries' licence texts.
CACHED_SUFFIXES = {".js", ".css", ".svg", ".png"}
THEME_COLOR = "#0b5e4f"
BACKGROUND_COLOR = "#f5f6f2"


def _static_names() -> list[str]:
    root = STATIC_DIR / APP_STATIC
    return sorted(
        f"{APP_STATIC}/{path.relative_to(root).as_posix()}"
        for path in root.rglob("*")
        if path.is_file() and path.suffix in CACHED_SUFFIXES
    )


def _shell_files() -> tuple[list[str], str]:
    """The static URLs the service worker precaches, and a version that changes
    whenever any of those files changes (so a new worker replaces the old cache)."""
    names = _static_names()
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode())
        digest.update((STATIC_DIR / name).read_bytes())
    return [staticfiles_storage.url(name) for name in names], digest.hexdigest()[:16]


# Static files only change with a deploy; during development (DEBUG) they change
# under the running server, so they are read again each time.
_shell_files_cached = cache(_shell_files)


# The static imports of an ES module: `import ... from "./x.js"`, `import "./x.js"`,
# `export ... from "./x.js"` (not `import("./x.js")`: those load later, on demand).
_STATIC_IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^"';()]*?(?:\bfrom\s*)?["'](\.{1,2}/[^"']+)["']""", re.M
)


def _first_modules(entry: str = f"{APP_STATIC}/app.js") -> list[str]:
    """The modules the app needs before it shows its first screen: ``app.js`` and
    everything it imports statically, transitively (static names, sorted)."""
    root = STATIC_DIR
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen or not (root / name).is_file():
            continue
        seen.add(name)
        folder = posixpath.dirname(name)
        for target in _STATIC_IMPORT.findall((root / name).read_text(encoding="utf-8")):
            todo.append(posixpath.normpath(posixpath.join(folder, target)))
    return sorted(seen)


def _module_urls() -> list[str]:
    """The modules of the first screen, for ``<link rel="modulepreload">``: the browser
    fetches them all at once instead of discovering each import only after the previous
    file. The other screens' modules are not preloaded: the app loads them on demand (and
    the service worker keeps them all)."""
    return [staticfiles_storage.url(name) for name in _first_modules()]


_module_urls_cached = cache(_module_urls)


def _config() -> dict[str, str]:
    return {
        "api": "/api/v1/",
        "serviceWorker": reverse("client:service-worker"),
        "appRoot": reverse("client:shell"),
        "icon": static("client/icons/icon.svg"),
    }


@require_GET
@ensure_csrf_cookie
@never_cache
def shell(request: HttpRequest) -> HttpResponse:
    """The one page of the app. ``ensure_csrf_cookie``: the app sends the cookie's token
    back with every unsafe request, as session authentication requires."""
    modules = _module_urls() if settings.DEBUG else _module_urls_cached()
    response = render(
        request,
        "client/shell.html",
        {"config": _config(), "theme_color": THEME_COLOR, "modules": modules},
    )
    response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
    return response


@require_GET
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served under ``/app/`` so that its scope is the whole app."""
    urls, version = _shell_files() if settings.DEBUG else _shell_files_cached()
    body = render(
        request,
        "client/sw.js",
        {
            "version": version,
            "shell_url": reverse("client:shell"),
            "precache": json.dumps([reverse("client:shell"), *urls]),
            # Files of an older version (a page of it may still be open) are under here.
            "static_prefix": static(f"{APP_STATIC}/"),
        },
    ).content
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("client:shell")
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    shell_url = reverse("client:shell")
    icons = [
        {"src": static("client/icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        {"src": static("client/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("client/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("client/icons/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    response = JsonResponse(
        {
            "name": "Open Sesame",
            "short_name": "Open Sesame",
            "description": "Your wallet, your trust score and the perks it unlocks.",
            "id": shell_url,
            "start_url": shell_url,
            "scope": shell_url,
            "display": "standalone",
            "orientation": "portrait",
            "background_color": BACKGROUND_COLOR,
            "theme_color": THEME_COLOR,
            "icons": icons,
        },
        content_type="application/manifest+json",
    )
    response["Cache-Control"] = "max-age=3600"
    return response
