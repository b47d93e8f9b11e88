"""The app's server side: a shell page, a service worker and a manifest, none of which
reads the database, and static files whose ES-module imports survive hashing."""

import json
import posixpath
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from client.views import STATIC_DIR, _first_modules, _static_names


def first_group(pattern: str, text: str) -> str:
    """The first group of ``pattern``'s first match in ``text``; the test fails without."""
    match = re.search(pattern, text)
    assert match, f"nothing matches {pattern!r}"
    return match[1]


@pytest.fixture
def client_() -> Client:
    return Client(enforce_csrf_checks=True)


def test_the_shell_is_one_page_with_its_config_and_a_csrf_cookie(client_: Client) -> None:
    # When the app is opened (this test has no database: any query would fail it)
    response = client_.get("/app/")
    # Then it is the shell, rendered from nothing in the database
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert '<script type="module" src="/static/client/app.js"></script>' in body
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in body
    config = json.loads(
        first_group(r'id="app-config" type="application/json">(.*?)</script>', body)
    )
    assert config == {
        "api": "/api/v1/",
        "serviceWorker": "/app/sw.js",
        "appRoot": "/app/",
        "icon": "/static/client/icons/icon.svg",
    }
    # and it sets the CSRF cookie that session login needs, and is never cached stale
    assert response.cookies["csrftoken"].value
    assert "no-cache" in response["Cache-Control"]
    # and it asks at once for every module its first screen needs (app.js and all it
    # imports), not one import after another, and for no other screen's
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', body)
    assert "/static/client/vendor/preact-htm.js" in preloaded
    assert "/static/client/screens/home.js" in preloaded
    assert "/static/client/screens/auth.js" in preloaded
    assert "/static/client/screens/records/index.js" not in preloaded
    first = {f"/static/{name}" for name in _first_modules()}
    assert set(preloaded) == first
    for name in _first_modules():
        source = (STATIC_DIR / name).read_text()
        for target in re.findall(r'^(?:import|export)\b[^"]*?"(\.[^"]+)"', source, re.M):
            imported = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
            assert f"/static/{imported}" in first, (name, target)
    # and it may run only its own scripts
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_site_root_opens_the_app(client_: Client) -> None:
    response = client_.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/app/"


def test_the_service_worker_precaches_the_shell_and_every_file_of_it(client_: Client) -> None:
    # When the browser fetches the worker
    response = client_.get("/app/sw.js")
    # Then it is JavaScript, never cached, allowed to control the whole app
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/app/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    precache = json.loads(first_group(r"const PRECACHE = (\[.*?\]);", body))
    # and its list holds the page and every code, style and icon file (no licence texts)
    assert precache[0] == "/app/"
    assert "/static/client/app.js" in precache
    assert "/static/client/vendor/preact-htm.js" in precache
    assert "/static/client/style.css" in precache
    assert "/static/client/icons/icon-192.png" in precache
    assert not [url for url in precache if url.endswith((".txt", ".md"))]
    assert sorted(precache[1:]) == sorted(f"/static/{name}" for name in _static_names())
    # and every one of them exists
    for name in _static_names():
        assert finders.find(name), name


def test_a_changed_file_gives_a_new_worker_version(
    client_: Client, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the worker as it is (in development the files are read each time)
    settings.DEBUG = True
    version = first_group(
        r'const CACHE = "open-sesame-shell-(\w+)"', client_.get("/app/sw.js").content.decode()
    )
    # When a file of the shell changes
    from client import views

    copy = tmp_path / "static"
    (copy / "client").mkdir(parents=True)
    for name in _static_names():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((views.STATIC_DIR / name).read_bytes())
    (copy / "client" / "style.css").write_text("body { color: red; }")
    monkeypatch.setattr(views, "STATIC_DIR", copy)
    changed = first_group(
        r'const CACHE = "open-sesame-shell-(\w+)"', client_.get("/app/sw.js").content.decode()
    )
    # Then the cache name changes, so browsers install the new worker and drop the old cache
    assert changed != version


def test_the_manifest_makes_the_app_installable(client_: Client) -> None:
    response = client_.get("/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/app/",
        "/app/",
        "standalone",
    )
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_production_storage_hashes_the_modules_and_their_imports(settings, tmp_path: Path) -> None:
    # Given the production static storage (content-hashed names, long cache lifetimes)
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "client.storage.AppStaticFilesStorage"},
    }
    # When collectstatic runs
    call_command("collectstatic", interactive=False, verbosity=0)
    # Then app.js imports the hashed names of its modules, which exist, so a deploy never
    # mixes an old module with a new one
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    app = (tmp_path / manifest["client/app.js"]).read_text()
    imported = re.findall(r'from "\./([^"]+)"', app)
    assert imported, "app.js imports nothing?"
    for name in imported:
        assert re.search(r"\.[0-9a-f]{12}\.js$", name), name
        assert (tmp_path / "client" / name).exists(), name


def test_every_error_code_the_server_has_is_a_sentence_in_every_language() -> None:
    # Given every stable code of the API's errors (one exception class each)
    from common.domain import DomainError

    def subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in subclasses(child))]

    import wallet.errors  # noqa: F401 (the classes register themselves as subclasses)

    codes = {cls.code for cls in subclasses(DomainError)}
    # and the ones DRF's own exceptions get, and the ones any HTTP answer may carry
    codes |= {
        "invalid",
        "malformed_request",
        "not_authenticated",
        "authentication_failed",
        "permission_denied",
        "not_found",
        "method_not_allowed",
        "not_acceptable",
        "unsupported_media_type",
        "throttled",
        "server_error",
    }
    # Then the app has a sentence for each, in English, Spanish and Chinese
    strings = finders.find("client/strings.js")
    assert isinstance(strings, str)
    text = Path(strings).read_text()
    blocks = re.split(r'\n  (?:en|es|"zh-Hans"): \{\n', text)[1:]
    assert len(blocks) == 3
    for block in blocks:
        messages = set(re.findall(r'"error\.([a-z_0-9]+)":', block))
        assert sorted(codes - messages) == []
