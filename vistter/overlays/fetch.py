"""Bounded, policy-checked HTTP(S) GET for data sources: a timeout, a size limit, allowed hosts.

Runs in the caller's thread and blocks it for at most about ``timeout`` seconds per network
step (connect, each read). Binds nothing. Every URL, the first and each redirect, must pass
the ``[network]`` policy (:class:`~vistter.models.network.NetworkConfig`): an allowed
scheme, and a host whose **resolved** addresses are public (or listed). The connection is
made to the very address that was checked, so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot reach a refused address. Proxies from the
environment are not used (a proxy would hide the address). A ``user:password@`` in the URL
is sent as HTTP basic authentication. Every failure comes back as one ``error_type`` (a
:class:`~vistter.errors.VistterError` subclass) whose message names the URL with its
credentials and query removed.
"""

from __future__ import annotations

import base64
import functools
import http.client
import ipaddress
import socket
import urllib.error
import urllib.request
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from vistter.errors import VistterError
from vistter.models.network import NetworkConfig, NetworkRefusedError

__all__ = ["fetch_bytes", "guarded_opener", "safe_url"]

_USER_AGENT = "vistter-overlays/1"
_CHUNK = 64 * 1024
_MAX_REDIRECTS = 5


def safe_url(url: str) -> str:
    """``url`` without user, password, query or fragment: fit for logs and alerts."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable url>"
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((parts.scheme, f"{host}{port}", parts.path, "", ""))


def _request(url: str) -> urllib.request.Request:
    """A GET request; ``user:password@`` in the URL becomes HTTP basic authentication."""
    parts = urlsplit(url)
    headers = {"User-Agent": _USER_AGENT}
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked


def _guarded_connection(
    policy: NetworkConfig,
    address: tuple[str, int],
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """``socket.create_connection`` that connects only to addresses the policy allows.

    Resolves the host, checks every address it resolved to, and connects to a checked one.
    Raises :class:`NetworkRefusedError` before connecting when an address is refused.
    """
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_, sockaddr in infos:
        policy.check_address(host, ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address is not None:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as error:
            sock.close()
            last = error
    raise last if last is not None else OSError(f"no address found for {host}")


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, policy: NetworkConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_guarded_connection, policy)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, policy: NetworkConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_guarded_connection, policy)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, policy: NetworkConfig) -> None:
        super().__init__()
        self._policy = policy

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPConnection, policy=self._policy), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, policy: NetworkConfig) -> None:
        super().__init__()
        self._policy = policy

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPSConnection, policy=self._policy), req)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = _MAX_REDIRECTS

    def __init__(self, policy: NetworkConfig) -> None:
        super().__init__()
        self._policy = policy

    def redirect_request(  # noqa: PLR0917 - urllib's signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        self._policy.check_url(newurl)  # raises NetworkRefusedError
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def guarded_opener(policy: NetworkConfig) -> urllib.request.OpenerDirector:
    """An opener for http(s) only, no proxies, every connection and redirect checked."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        _HTTPHandler(policy),
        _HTTPSHandler(policy),
        _RedirectHandler(policy),
    ):
        opener.add_handler(handler)
    return opener


def fetch_bytes(
    url: str,
    *,
    timeout: float,
    limit: int,
    error_type: type[VistterError],
    what: str,
    policy: NetworkConfig,
) -> bytes:
    """The body of a GET of ``url``, at most ``limit`` bytes, if ``policy`` allows it.

    Raises ``error_type`` when the scheme or host is not allowed (before any connection to
    a refused address), the server answers with an error status, the network fails or times
    out, or the body is larger than ``limit``.
    """
    shown = safe_url(url)
    try:
        policy.check_url(url)
        with guarded_opener(policy).open(_request(url), timeout=timeout) as response:
            body = bytearray()
            while chunk := response.read(_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise error_type(
                        f"the {what} at {shown} is larger than {limit} bytes.",
                        hint="Serve a smaller file, or point the overlay at a smaller one.",
                    )
            return bytes(body)
    except NetworkRefusedError as error:
        raise error_type(
            f"the {what} address {shown} is not allowed: {error}.",
            hint="Use an https address of a public server, or allow it under [network] "
            "(allowed_schemes, allowed_hosts) in the appliance configuration.",
        ) from None
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response and its socket
        raise error_type(
            f"the {what} at {shown} answered HTTP {error.code} {error.reason}.",
            hint="Check the address and that the server publishes it.",
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, NetworkRefusedError):
            raise error_type(
                f"the {what} address {shown} is not allowed: {reason}.",
                hint="Allow it under [network] (allowed_schemes, allowed_hosts) in the "
                "appliance configuration.",
            ) from None
        raise error_type(
            f"the {what} at {shown} could not be fetched: {reason}.",
            hint="Check the network and that the server is up and answers in time.",
        ) from None
