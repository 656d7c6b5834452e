"""The page at ``/`` and its static files, without a browser: everything it loads is served
from the package, nothing from elsewhere, and the CSP allows exactly the one inline script."""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
import warnings

import pytest

with warnings.catch_warnings():
    # Starlette >= 1.x prefers httpx2 for its TestClient and warns when it falls back to
    # httpx (what the test extras install); either works here (as in tests/api).
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api.app import ApiDeps, create_app
from vistter.telemetry import TelemetryBus

IMPORT = re.compile(r"""(?:^|\n)\s*import\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]""")
CSS_IMPORT = re.compile(r"""@import\s+url\(["']?([^"')]+)["']?\)""")
IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)


@pytest.fixture
def client() -> TestClient:
    tree = {"id": "root", "path": "", "state": "running", "children": []}
    app = create_app(ApiDeps(tree=lambda: tree, validate_timeline=lambda document: [],
                             started_at=0.0, version="test", events=TelemetryBus()))
    return TestClient(app, base_url="http://127.0.0.1")


def test_the_page_is_served_at_the_root_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    inline = IMPORT_MAP.findall(page.text)
    assert len(inline) == 1, "the import map is the page's only inline script"
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "http" not in page.text.replace("http://127.0.0.1:8080/api/show", "")


def test_every_module_the_page_loads_is_served_from_the_package(client: TestClient) -> None:
    html = client.get("/").text
    import_map: dict[str, str] = json.loads(IMPORT_MAP.findall(html)[0])["imports"]
    entry = re.findall(r'<script type="module" src="([^"]+)"', html)
    assert entry == ["/static/console/main.js"]
    pending, seen = [*entry, *import_map.values()], set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        assert "javascript" in response.headers["content-type"], url
        if not url.startswith("/static/console/"):
            continue  # vendored: checked against vendor.json by test_vendor.py
        for specifier in IMPORT.findall(response.text):
            if specifier.startswith("."):
                pending.append(posixpath.normpath(posixpath.join(posixpath.dirname(url),
                                                                 specifier)))
            else:
                assert specifier in import_map, f"{url} imports {specifier!r}: not in the map"
    assert "/static/console/views/overrides.js" in seen
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    for sheet in stylesheets:
        css = client.get(sheet)
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        for imported in CSS_IMPORT.findall(css.text):
            assert client.get(imported).status_code == 200, imported


def test_a_missing_static_file_is_a_json_404(client: TestClient) -> None:
    response = client.get("/static/console/nope.js")
    assert response.status_code == 404
    assert response.json()["problem"]
    assert client.get("/static/../pyproject.toml").status_code == 404


def test_without_a_bus_the_event_routes_say_the_page_polls() -> None:
    tree = {"id": "root", "path": "", "state": "running", "children": []}
    app = create_app(ApiDeps(tree=lambda: tree, validate_timeline=lambda document: [],
                             started_at=0.0, version="test"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for path in ("/api/events", "/api/telemetry/latest"):
            response = client.get(path)
            assert response.status_code == 503
            assert "polls" in response.json()["hint"]
        assert client.get("/").status_code == 200
