"""Bearer-token authentication for the control API.

When a token is configured, every ``/api/*`` route except ``GET /api/health`` needs
``Authorization: Bearer <token>``. The comparison is constant-time, on the raw header bytes.
The token is never logged, echoed or put in an error message.
"""

from __future__ import annotations

import hmac
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from vistter.api.errors import UnauthorizedError, error_response
from vistter.errors import ConfigError

logger = logging.getLogger(__name__)

API_PREFIX = "/api"
PUBLIC_ROUTES = frozenset({("GET", "/api/health"), ("HEAD", "/api/health")})

_HINT = (
    "Send the header 'Authorization: Bearer <token>' with the token configured as "
    "[api] token (or the VISTTER_API_TOKEN environment variable) on the appliance."
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="vistter"'}


def require_usable_token(token: str | None) -> str | None:
    """Return ``token``, or raise :class:`ConfigError` if it is set but blank."""
    if token is not None and not token.strip():
        raise ConfigError(
            "The control API token is set but empty.",
            hint="Set [api] token / VISTTER_API_TOKEN to a long random string, or remove it "
            "to disable authentication on a loopback-only API.",
        )
    return token


def is_protected(method: str, path: str) -> bool:
    """Whether a request needs the token (when one is configured)."""
    if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
        return False
    return (method, path) not in PUBLIC_ROUTES


def bearer_matches(authorization: bytes | None, token: bytes) -> bool:
    """Whether an ``Authorization`` header value carries ``token``, compared in constant time."""
    if authorization is None:
        return False
    scheme, _, credential = authorization.strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return False
    return hmac.compare_digest(credential.strip(), token)


class BearerAuth:
    """ASGI middleware enforcing the bearer token on protected routes.

    Runs in the event loop thread. A refused request gets a 401 JSON answer and never reaches
    the routes; it is logged at warning level with the client address, never with the token.
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        usable = require_usable_token(token)
        self._token = usable.encode("utf-8") if usable is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self._token is None
            or scope["type"] != "http"
            or not is_protected(scope["method"], scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        authorization = next(
            (value for name, value in scope["headers"] if name.lower() == b"authorization"),
            None,
        )
        if bearer_matches(authorization, self._token):
            await self.app(scope, receive, send)
            return
        if authorization is None:
            problem = "This route needs the API token, and the request has no Authorization header."
        else:
            problem = "The Authorization header does not carry a valid API bearer token."
        client = scope.get("client")
        logger.warning(
            "control API: refused %s %s from %s: %s",
            scope["method"], scope["path"], client[0] if client else "?",
            "no token" if authorization is None else "wrong token",
        )
        error = UnauthorizedError(problem, hint=_HINT, headers=_CHALLENGE)
        await error_response(error)(scope, receive, send)
