"""Who may use the control API: the bearer token, the console login, and the guard enforcing both.

Three situations:

* **open** -- no ``[api] token`` and no admin password (the API then listens on loopback only,
  see :func:`vistter.api.server.check_bind`): every route answers, as before, and the page
  shows no login;
* **protected** -- a token or an admin password is configured (and always when the API listens
  beyond loopback, which needs one of them): every route but the public ones (``GET /api/health``,
  ``POST /api/login``, the page ``/`` and its ``/static`` files, which hold no secrets)
  answers 401 without credentials. Everything else -- unknown paths, ``/metrics``, the event
  stream, previews, routes added later -- is protected by default.
* **credentials** -- ``Authorization: Bearer <token>`` (API clients; compared in constant
  time), or the session cookie of a console login (``POST /api/login`` with the admin password,
  or with the token when no password is set). A state-changing request made with the cookie
  must carry the session's CSRF token in the ``X-CSRF-Token`` header (403 without).

In every situation a state-changing request from another site's page is refused (403, see
:mod:`vistter.api.csrf`). Secrets (token, password, session ids) are never logged or echoed.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vistter.api.csrf import CSRF_HEADER, cross_site_problem, header, is_unsafe
from vistter.api.errors import ApiError, UnauthorizedError, error_response
from vistter.api.login_limit import LoginLimiter
from vistter.api.session_store import Session, SessionStore
from vistter.clock import Clock, MonotonicClock
from vistter.errors import ConfigError
from vistter.models.settings import ApiConfig
from vistter.passwords import verify_password

logger = logging.getLogger(__name__)

__all__ = [
    "ACCESS_SCOPE_KEY",
    "SESSION_COOKIE",
    "Access",
    "AccessGrant",
    "AccessGuard",
    "CrossSiteRefusedError",
    "CsrfTokenError",
    "LoginSettings",
    "TooManyLoginAttemptsError",
    "bearer_matches",
    "require_usable_token",
]

SESSION_COOKIE = "vistter_session"
ACCESS_SCOPE_KEY = "vistter.access"
"""The ASGI scope key under which the guard leaves the request's :class:`AccessGrant`."""
PUBLIC_PAGE_PREFIX = "/static/"
SESSION_CHECK_SECONDS = 1.0
"""How often a stream opened with a session (events, preview) checks that it still lasts."""
_VERIFY_SLOTS = 2  # argon2 verifies at once (64 MiB and a few hundred ms each)

_BEARER_HINT = (
    "Send the header 'Authorization: Bearer <token>' with the token configured as "
    "[api] token (or the VISTTER_API_TOKEN environment variable) on the appliance."
)
_LOGIN_HINT = "Open the console page (/) and log in with the admin password."


class CrossSiteRefusedError(ApiError):
    """A state-changing request comes from another site's page (403)."""

    status_code = 403


class CsrfTokenError(ApiError):
    """A state-changing request made with the login cookie lacks the session's CSRF token (403)."""

    status_code = 403


class TooManyLoginAttemptsError(ApiError):
    """Too many wrong passwords from one address; retry after ``Retry-After`` seconds (429)."""

    status_code = 429


def require_usable_token(token: str | None) -> str | None:
    """Return ``token``, or raise :class:`ConfigError` if it is set but blank."""
    if token is not None and not token.strip():
        raise ConfigError(
            "The control API token is set but empty.",
            hint="Set [api] token / VISTTER_API_TOKEN to a long random string, or remove it "
            "to disable authentication on a loopback-only API.",
        )
    return token


def bearer_matches(authorization: bytes | None, token: bytes) -> bool:
    """Whether an ``Authorization`` header value carries ``token``, compared in constant time."""
    if authorization is None:
        return False
    scheme, _, credential = authorization.strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return False
    return hmac.compare_digest(credential.strip(), token)


@dataclass(frozen=True)
class LoginSettings:
    """The console login: the admin password's argon2 hash (``None``: none set), how long a
    login lasts, and how many wrong passwords one address may try per window."""

    password_hash: str | None = field(default=None, repr=False)
    session_lifetime: float = 12 * 3600.0
    login_attempts: int = 5
    login_window: float = 60.0

    @classmethod
    def from_config(cls, api: ApiConfig) -> LoginSettings:
        """The settings of ``[api]``."""
        secret = api.admin_password_hash
        return cls(
            password_hash=secret.get_secret_value() if secret is not None else None,
            session_lifetime=float(api.session_lifetime),
            login_attempts=api.login_attempts,
            login_window=float(api.login_window),
        )


@dataclass(frozen=True)
class AccessGrant:
    """How a request was let in: ``open`` (no auth configured), ``token`` or ``session``."""

    via: Literal["open", "token", "session"]
    session: Session | None = None


class Access:
    """The credentials of one app: the token, the password hash, the sessions and the login
    limit. Methods may be called from any thread; :meth:`check_password` blocks (argon2) and
    belongs in a worker thread."""

    def __init__(
        self, token: str | None, login: LoginSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        usable = require_usable_token(token)
        self._token = usable.encode("utf-8") if usable is not None else None
        self.login = login or LoginSettings()
        clock = clock or MonotonicClock()
        self.clock = clock
        self.sessions = SessionStore(clock, self.login.session_lifetime)
        self.limiter = LoginLimiter(clock, self.login.login_attempts, self.login.login_window)
        self._verify_slots = threading.BoundedSemaphore(_VERIFY_SLOTS)
        if self.login.password_hash is not None:
            logger.info("control API: the console asks for the admin password")
        elif self._token is not None:
            logger.info("control API: the console login takes the API token (no admin password)")

    @property
    def has_token(self) -> bool:
        return self._token is not None

    @property
    def protected(self) -> bool:
        """Whether requests need credentials (a token or an admin password is configured)."""
        return self._token is not None or self.login.password_hash is not None

    def bearer_ok(self, authorization: bytes | None) -> bool:
        return self._token is not None and bearer_matches(authorization, self._token)

    def check_password(self, password: str) -> bool:
        """Whether ``password`` opens a console session: the admin password when one is set,
        else the API token. Worker thread: an argon2 verify blocks for a few hundred ms (at
        most :data:`_VERIFY_SLOTS` run at once). Never raises."""
        if self.login.password_hash is not None:
            with self._verify_slots:
                return verify_password(self.login.password_hash, password)
        if self._token is not None:
            return hmac.compare_digest(password.encode("utf-8", "replace"), self._token)
        return False

    def session_of(self, scope: Scope) -> Session | None:
        """The live session named by the request's cookie, if any."""
        return self.sessions.get(self.cookie_of(scope))

    @staticmethod
    def cookie_of(scope: Scope) -> str | None:
        raw = header(scope, b"cookie")
        return cookie_parser(raw.decode("latin-1")).get(SESSION_COOKIE) if raw else None

    def missing_hint(self) -> str:
        """What a refused client should do, for this configuration."""
        if self._token is None:
            return _LOGIN_HINT
        if self.login.password_hash is None:
            return (f"{_BEARER_HINT} On the console page, log in with that token as the "
                    "password.")
        return f"{_LOGIN_HINT} API clients: {_BEARER_HINT}"


class AccessGuard:
    """ASGI middleware: refuses cross-site writes (403) and, when credentials are configured,
    requests without valid ones (401) or cookie writes without the CSRF token (403).

    Runs in the event loop thread and never blocks. A refused request never reaches the routes;
    it is logged at warning level with the client address, never with a secret. A let-in
    request carries its :class:`AccessGrant` in ``scope[ACCESS_SCOPE_KEY]``; one let in by a
    session sees a client disconnect when that session ends, so an open event or preview
    stream stops at logout or expiry.
    """

    def __init__(
        self, app: ASGIApp, access: Access, public: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.app = app
        self._access = access
        self._public = frozenset(public) | {("HEAD", path) for method, path in public
                                            if method == "GET"}

    def is_public(self, method: str, path: str) -> bool:
        """Health, login, the page and its static files."""
        if method in ("GET", "HEAD") and (path == "/" or path.startswith(PUBLIC_PAGE_PREFIX)):
            return True
        return (method, path) in self._public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        access = self._access
        if (problem := cross_site_problem(scope)) is not None:
            await self._refuse(scope, receive, send, CrossSiteRefusedError(
                problem, hint="Use the console page served by this appliance, or an API "
                "client that does not pretend to be another site's page."), "cross-site")
            return
        if not access.protected:
            scope[ACCESS_SCOPE_KEY] = AccessGrant("open")
            await self.app(scope, receive, send)
            return
        if self.is_public(scope.get("method", "GET"), scope["path"]):
            await self.app(scope, receive, send)
            return
        authorization = header(scope, b"authorization")
        if authorization is not None:
            if access.bearer_ok(authorization):
                scope[ACCESS_SCOPE_KEY] = AccessGrant("token")
                await self.app(scope, receive, send)
                return
            await self._refuse(scope, receive, send, self._unauthorized(
                "The Authorization header does not carry a valid API bearer token."),
                "wrong token")
            return
        session = access.session_of(scope)
        if session is None:
            if access.cookie_of(scope):
                problem = ("Your console login has ended (it expired, you logged out, or the "
                           "appliance restarted).")
            else:
                problem = ("This route needs a login or the API token, and the request has "
                           "neither.")
            await self._refuse(scope, receive, send, self._unauthorized(problem), "no login")
            return
        offered = _text(header(scope, CSRF_HEADER.encode()))
        if is_unsafe(scope) and not session.csrf_matches(offered):
            await self._refuse(scope, receive, send, CsrfTokenError(
                "This change was sent with the login cookie but without the session's CSRF "
                f"token (header {CSRF_HEADER}).",
                hint="Reload the console page; API clients should use the bearer token."),
                "no csrf token")
            return
        scope[ACCESS_SCOPE_KEY] = AccessGrant("session", session)
        await self.app(scope, self._until_session_ends(scope, receive, session), send)

    def _unauthorized(self, problem: str) -> UnauthorizedError:
        scheme = "Bearer" if self._access.has_token else "Session"
        return UnauthorizedError(problem, hint=self._access.missing_hint(),
                                 headers={"WWW-Authenticate": f'{scheme} realm="vistter"'})

    def _until_session_ends(self, scope: Scope, receive: Receive, session: Session) -> Receive:
        """``receive``, but a disconnect once the session is over (logout, expiry)."""
        sessions, clock = self._access.sessions, self._access.clock
        disconnect = f"{scope['type']}.disconnect"

        async def receive_while_logged_in() -> Message:
            pending = asyncio.ensure_future(receive())
            try:
                while sessions.get(session.id) is not None:
                    left = session.seconds_left(clock.monotonic())
                    done, _ = await asyncio.wait(
                        {pending}, timeout=max(0.0, min(left, SESSION_CHECK_SECONDS)))
                    if done:
                        return pending.result()
            finally:
                if not pending.done():
                    pending.cancel()
            return {"type": disconnect}

        return receive_while_logged_in

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, error: ApiError, why: str
    ) -> None:
        client = scope.get("client")
        logger.warning("control API: refused %s %s from %s: %s", scope.get("method", "WS"),
                       scope["path"], client[0] if client else "?", why)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": why})
            return
        await error_response(error)(scope, receive, send)


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None
