"""The console login routes: ``POST /api/login``, ``POST /api/logout``, ``GET /api/session``.

* ``POST /api/login`` (public) takes ``{"password": "..."}``: the admin password, or the API
  token when no password is set. A right one answers the session (its CSRF token) and sets the
  cookie ``vistter_session`` (HttpOnly, SameSite=Strict, Path=/, Max-Age = the session's
  lifetime, Secure when the request came over https); a wrong one is 401; too many wrong ones
  from one address are 429 with ``Retry-After``. With nothing configured it answers that no
  login is needed.
* ``GET /api/session`` -- who is asking (``open``, ``token`` or ``session``) and, for a
  session, its CSRF token and time left; 401 (from the guard) without credentials, which is how
  the page knows to show its login.
* ``POST /api/logout`` ends the cookie's session and clears the cookie.

Endpoints run in the event loop thread; the password check (argon2) runs in a worker thread.
An error they raise is an :class:`~vistter.api.errors.ApiError` and becomes its 4xx JSON.
"""

from __future__ import annotations

import logging
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vistter.api.auth import (
    ACCESS_SCOPE_KEY,
    SESSION_COOKIE,
    Access,
    AccessGrant,
    TooManyLoginAttemptsError,
)
from vistter.api.contract import ModelBody, Operation, Reply
from vistter.api.errors import NO_STORE, UnauthorizedError
from vistter.api.session_store import Session
from vistter.passwords import MAX_PASSWORD_LENGTH

__all__ = ["LoginRequest", "LogoutReply", "SessionReply", "session_operations"]

logger = logging.getLogger(__name__)


class LoginRequest(BaseModel):
    """The console login form."""

    model_config = ConfigDict(extra="forbid", strict=True)

    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class SessionReply(BaseModel):
    """Who the API takes the caller for.

    ``via``: ``open`` (no login configured), ``token`` (the bearer token) or ``session`` (a
    console login); ``csrf_token``: send it as ``X-CSRF-Token`` with every change (sessions
    only); ``expires_in_seconds``: time left of the session."""

    model_config = ConfigDict(extra="forbid")

    login_required: bool
    via: Literal["open", "token", "session"]
    csrf_token: str | None
    expires_in_seconds: float | None


class LogoutReply(BaseModel):
    """``logged_out``: whether a session was ended (false for a token or an open API)."""

    model_config = ConfigDict(extra="forbid")

    logged_out: bool


class _SessionRoutes:
    def __init__(self, access: Access) -> None:
        self._access = access

    def _reply(self, via: Literal["open", "token", "session"],
               session: Session | None) -> dict[str, object]:
        left = session.seconds_left(self._access.clock.monotonic()) if session else None
        return SessionReply(
            login_required=self._access.protected, via=via,
            csrf_token=session.csrf_token if session else None,
            expires_in_seconds=round(left, 3) if left is not None else None,
        ).model_dump()

    async def login(self, request: Request, body: LoginRequest) -> JSONResponse:
        access = self._access
        if not access.protected:
            return JSONResponse(self._reply("open", None), headers=NO_STORE)
        address = request.client.host if request.client else "unknown"
        wait = access.limiter.begin(address)
        if wait:
            logger.warning("console login: too many wrong passwords from %s", address)
            raise TooManyLoginAttemptsError(
                f"Too many wrong passwords from this address; try again in {wait} s.",
                hint="Wait, then type the admin password carefully. Forgot it? Set a new one "
                "with 'vistter hash-password' ([api] admin_password_hash) and restart.",
                headers={"Retry-After": str(wait)},
            )
        if not await run_in_threadpool(access.check_password, body.password):
            logger.warning("console login: wrong password from %s", address)
            raise UnauthorizedError(
                "The password is not right.",
                hint="Type the admin password again (it is case-sensitive)"
                + ("." if access.login.password_hash is not None
                   else "; no admin password is set, so the API token is the password."),
                headers={"WWW-Authenticate": 'Session realm="vistter"'},
            )
        access.limiter.succeeded(address)
        access.sessions.end(access.cookie_of(request.scope))  # a new id at every login
        session = access.sessions.create()
        logger.info("console login from %s", address)
        response = JSONResponse(self._reply("session", session), headers=NO_STORE)
        response.set_cookie(
            SESSION_COOKIE, session.id, max_age=math.floor(access.sessions.lifetime),
            path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict",
        )
        return response

    async def session(self, request: Request) -> JSONResponse:
        grant = request.scope.get(ACCESS_SCOPE_KEY)
        if not isinstance(grant, AccessGrant):  # only reachable without the guard
            grant = AccessGrant("open")
        return JSONResponse(self._reply(grant.via, grant.session), headers=NO_STORE)

    async def logout(self, request: Request) -> JSONResponse:
        grant = request.scope.get(ACCESS_SCOPE_KEY)
        ended = False
        if isinstance(grant, AccessGrant) and grant.session is not None:
            ended = self._access.sessions.end(grant.session.id)
        response = JSONResponse(LogoutReply(logged_out=ended).model_dump(), headers=NO_STORE)
        if ended:
            response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                                   secure=request.url.scheme == "https")
        return response


def session_operations(access: Access) -> list[Operation]:
    """The login, logout and session operations of an app guarded by ``access``."""
    r = _SessionRoutes(access)
    body = ModelBody(LoginRequest, "The body must carry the password.",
                     'Send {"password": "..."} (the admin password).')
    return [
        Operation("POST", "/api/login", r.login, "Log in to the console with the admin password.",
                  {200: Reply("Logged in (the session cookie is set), or no login is needed.",
                              SessionReply,
                              headers={"Set-Cookie": "vistter_session: HttpOnly, "
                                       "SameSite=Strict; Secure over https."})},
                  body=body, tag="console", public=True,
                  errors={401: "The password is not right.",
                          429: "Too many wrong passwords from this address (Retry-After)."}),
        Operation("GET", "/api/session", r.session,
                  "Who the API takes the caller for, and the session's CSRF token.",
                  {200: Reply("The caller's access.", SessionReply)}, tag="console"),
        Operation("POST", "/api/logout", r.logout, "End the console login (clears the cookie).",
                  {200: Reply("Logged out (or nothing to end).", LogoutReply)}, tag="console"),
    ]
