"""Cross-site request checks: a page of another site may not drive the appliance.

A browser sends the operator's cookies, and reaches ``127.0.0.1``, from any page it shows. So a
state-changing request (any method but GET, HEAD and OPTIONS) and every WebSocket handshake is
refused when the browser says it comes from elsewhere: ``Sec-Fetch-Site`` other than
``same-origin``/``none``, or an ``Origin`` that is not the appliance's own (scheme and
``Host``). A client that sends neither header (curl, scripts, the bearer-token API clients) is
not a browser page and is not refused here. These checks hold with or without a login; with a
login, the session's CSRF token (header :data:`CSRF_HEADER`) is required on top.

Pure functions of the ASGI scope; they never raise.
"""

from __future__ import annotations

from starlette.types import Scope

__all__ = ["CSRF_HEADER", "SAFE_METHODS", "cross_site_problem", "header", "is_unsafe"]

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TRUSTED_FETCH_SITES = (b"same-origin", b"none")
_WS_SCHEMES = {"ws": "http", "wss": "https"}


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower-case) in ``scope``, or ``None``."""
    return next((value for key, value in scope.get("headers", ()) if key.lower() == name), None)


def is_unsafe(scope: Scope) -> bool:
    """Whether the request may change state: a WebSocket, or a method other than GET/HEAD/
    OPTIONS."""
    return scope["type"] == "websocket" or scope.get("method", "GET") not in SAFE_METHODS


def own_origin(scope: Scope) -> str:
    """``scheme://host[:port]`` of the appliance as this request addressed it."""
    scheme = str(scope.get("scheme", "http"))
    scheme = _WS_SCHEMES.get(scheme, scheme)
    host = header(scope, b"host")
    if host is None:
        server = scope.get("server") or ("localhost", None)
        where = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    else:
        where = host.decode("latin-1")
    return _normalized(f"{scheme}://{where}")


def _normalized(origin: str) -> str:
    """Lower-case, no trailing slash, no default port (``http://h:80`` is ``http://h``)."""
    origin = origin.strip().lower().rstrip("/")
    for scheme, port in (("http://", ":80"), ("https://", ":443")):
        if origin.startswith(scheme):
            return origin.removesuffix(port)
    return origin


def cross_site_problem(scope: Scope) -> str | None:
    """Why this state-changing request looks like it comes from another site's page, or
    ``None`` when it does not (or when it changes nothing)."""
    if not is_unsafe(scope):
        return None
    site = header(scope, b"sec-fetch-site")
    if site is not None and site.strip().lower() not in _TRUSTED_FETCH_SITES:
        return (f"The browser says this request comes from another site "
                f"(Sec-Fetch-Site: {site.decode('latin-1')[:40]}).")
    origin = header(scope, b"origin")
    if origin is None:
        return None
    offered = _normalized(origin.decode("latin-1"))
    own = own_origin(scope)
    if offered != own:
        return f"The request comes from the page of {offered[:100]!r}, not from {own!r}."
    return None
