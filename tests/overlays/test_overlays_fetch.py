"""Data feeds are fetched only from allowed schemes and public hosts, checked after DNS.

A real HTTP server on 127.0.0.1 stands in for an internal service (the cloud metadata
address, the appliance's own API): the default policy must not send it a single request,
whatever name, redirect or scheme leads there.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vistter.models.network import NetworkConfig, NetworkRefusedError
from vistter.overlays import DataSourceError
from vistter.overlays.fetch import fetch_bytes


class _Internal:
    """A real HTTP server on loopback that counts the requests it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.redirect_to: str | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if server.redirect_to is not None and self.path == "/hop":
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"secret": "metadata"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def internal() -> Iterator[_Internal]:
    server = _Internal()
    try:
        yield server
    finally:
        server.stop()


def fetch(url: str, policy: NetworkConfig) -> bytes:
    return fetch_bytes(url, timeout=2, limit=1024, error_type=DataSourceError,
                       what="data source", policy=policy)  # fmt: skip


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names the test makes resolve to chosen addresses (as a hostile DNS server could)."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return real(answers[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


HTTP_ANY = NetworkConfig(allowed_schemes=("http", "https"))


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("url", "policy", "words"),
    [
        ("http://127.0.0.1:{port}/x", NetworkConfig(), "scheme 'http' is not allowed"),
        ("http://127.0.0.1:{port}/x", HTTP_ANY, "non-public"),
        ("http://localhost:{port}/x", HTTP_ANY, "this machine"),
        ("http://[::ffff:127.0.0.1]:{port}/x", HTTP_ANY, "non-public"),
        ("http://169.254.169.254/latest/meta-data", HTTP_ANY, "non-public"),
        ("http://10.1.2.3/x", HTTP_ANY, "non-public"),
        ("http://2130706433:{port}/x", HTTP_ANY, "non-public"),  # 127.0.0.1 as one number
        ("http://0x7f.1:{port}/x", HTTP_ANY, "non-public"),
        ("file:///etc/passwd", HTTP_ANY, "scheme 'file' is not allowed"),
    ],
)
def test_internal_addresses_are_refused_before_any_request(
    internal: _Internal, url: str, policy: NetworkConfig, words: str
) -> None:
    with pytest.raises(DataSourceError, match="is not allowed") as caught:
        fetch(url.format(port=internal.port), policy)
    assert words in caught.value.problem
    assert "[network]" in caught.value.hint
    assert internal.requests == []


@pytest.mark.timeout(30)
def test_a_public_looking_name_is_checked_after_dns_resolution(
    internal: _Internal, fake_dns: dict[str, str]
) -> None:
    fake_dns["feed.example.test"] = "127.0.0.1"  # DNS says: loopback
    url = f"http://feed.example.test:{internal.port}/tide.json"
    HTTP_ANY.check_url(url)  # passes at validation time: it is a name
    with pytest.raises(DataSourceError, match="non-public"):
        fetch(url, HTTP_ANY)
    assert internal.requests == []
    listed = NetworkConfig(allowed_schemes=("http",), allowed_hosts=("feed.example.test",))
    assert fetch(url, listed) == b'{"secret": "metadata"}'  # listed: fetched, same resolution
    assert internal.requests == ["/tide.json"]


@pytest.mark.timeout(30)
def test_a_redirect_to_an_internal_address_is_refused(
    internal: _Internal, fake_dns: dict[str, str]
) -> None:
    fake_dns["feed.example.test"] = "127.0.0.1"
    policy = NetworkConfig(allowed_schemes=("http",), allowed_hosts=("feed.example.test",))
    internal.redirect_to = f"http://127.0.0.1:{internal.port}/latest/meta-data"
    with pytest.raises(DataSourceError, match="not allowed"):
        fetch(f"http://feed.example.test:{internal.port}/hop", policy)
    assert internal.requests == ["/hop"], "the redirect target got no request"
    internal.redirect_to = "file:///etc/passwd"
    with pytest.raises(DataSourceError, match="not allowed"):  # urllib refuses it first
        fetch(f"http://feed.example.test:{internal.port}/hop", policy)


def test_the_policy_at_validation_time() -> None:
    policy = NetworkConfig()
    assert policy.check_url("https://tides.example.org/a.json") == ("https", "tides.example.org")
    for url in ("http://tides.example.org/a", "https://127.0.0.1/", "https://[::1]/",
                "https://192.168.1.20/a", "https://100.64.0.1/", "https://0.0.0.0/",
                "https://localhost/", "https://api.localhost/", "https://224.0.0.1/"):  # fmt: skip
        with pytest.raises(NetworkRefusedError):
            policy.check_url(url)
    lan = NetworkConfig(allowed_hosts=("192.168.1.0/24", "Tides.Local"))
    assert lan.check_url("https://192.168.1.20/a")[1] == "192.168.1.20"
    assert lan.check_url("https://tides.local/a")[1] == "tides.local"
    with pytest.raises(NetworkRefusedError):
        lan.check_url("https://192.168.2.20/a")
