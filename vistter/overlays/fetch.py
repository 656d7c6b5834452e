"""Bounded HTTP(S) GET for overlay pictures and data sources: a timeout and a size limit.

Runs in the caller's thread and blocks it for at most about ``timeout`` seconds per network
step (connect, each read). Binds nothing; follows redirects (urllib's default). A
``user:password@`` in the URL is sent as HTTP basic authentication. Every failure comes
back as one ``error_type`` (a :class:`~vistter.errors.VistterError` subclass) whose message
names the URL with its credentials and query removed.
"""

from __future__ import annotations

import base64
import http.client
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit, urlunsplit

from vistter.errors import VistterError

__all__ = ["fetch_bytes", "safe_url"]

_USER_AGENT = "vistter-overlays/1"
_CHUNK = 64 * 1024


def safe_url(url: str) -> str:
    """``url`` without user, password, query or fragment: fit for logs and alerts."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable url>"
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
    return urllib.request.Request(url, headers=headers)  # noqa: S310


def fetch_bytes(
    url: str,
    *,
    timeout: float,
    limit: int,
    error_type: type[VistterError],
    what: str,
) -> bytes:
    """The body of a GET of ``url`` (http or https only), at most ``limit`` bytes.

    Raises ``error_type`` when the scheme is not http(s), the server answers with an error
    status, the network fails or times out, or the body is larger than ``limit``.
    """
    shown = safe_url(url)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise error_type(
            f"the {what} address {shown} is not http(s).",
            hint="Use an http:// or https:// address, or a file in the assets folder.",
        )
    request = _request(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = bytearray()
            while chunk := response.read(_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise error_type(
                        f"the {what} at {shown} is larger than {limit} bytes.",
                        hint="Serve a smaller file, or point the overlay at a smaller one.",
                    )
            return bytes(body)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response and its socket
        raise error_type(
            f"the {what} at {shown} answered HTTP {error.code} {error.reason}.",
            hint="Check the address and that the server publishes it.",
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise error_type(
            f"the {what} at {shown} could not be fetched: {reason}.",
            hint="Check the network and that the server is up and answers in time.",
        ) from None
