"""How the control API says no: typed errors, their JSON body, and the last-resort guard.

Every error response of the API is JSON ``{"error": <kind>, "problem": <what is wrong>,
"hint": <how to fix it>}`` -- never an HTML page, never a traceback. The kind is the error's
class name (:meth:`vistter.errors.VistterError.to_dict`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vistter.errors import (
    OperatorError,
    SupervisionError,
    TimelineError,
    UnknownChildError,
    VistterError,
)

logger = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


class ApiError(OperatorError):
    """A request the API refuses. Subclasses fix the HTTP status."""

    status_code: ClassVar[int] = 400

    def __init__(
        self, problem: str, *, hint: str = "", headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(problem, hint=hint)
        self.headers: dict[str, str] = dict(headers or {})


class BadRequestError(ApiError):
    """The request is malformed in a way no more specific error covers (400)."""


class UnauthorizedError(ApiError):
    """The route needs the API bearer token and the request has none or a wrong one (401)."""

    status_code = 401


class NotFoundError(ApiError):
    """No route has this path (404)."""

    status_code = 404


class MethodNotAllowedError(ApiError):
    """The route exists but not for this HTTP method (405)."""

    status_code = 405


class PayloadTooLargeError(ApiError):
    """The request body is larger than ``[api] max_body_bytes`` (413)."""

    status_code = 413


class UnsupportedMediaTypeError(ApiError):
    """The request body is not declared as JSON (415)."""

    status_code = 415


class MalformedJsonError(ApiError):
    """The request body does not parse as JSON (422)."""

    status_code = 422


class RequestHeadersTooLargeError(ApiError):
    """The request's headers are larger than the HTTP server accepts (431)."""

    status_code = 431


class TreeUnavailableError(ApiError):
    """The supervision tree did not answer in time, or is not running (503)."""

    status_code = 503


class InternalServerError(ApiError):
    """A bug: an unexpected exception while handling a request (500)."""

    status_code = 500


def error_response(error: VistterError, status_code: int | None = None) -> JSONResponse:
    """The JSON response for ``error``; the status comes from the error class if not given."""
    if status_code is None:
        status_code = error.status_code if isinstance(error, ApiError) else 400
    headers = dict(NO_STORE)
    if isinstance(error, ApiError):
        headers.update(error.headers)
    return JSONResponse(error.to_dict(), status_code=status_code, headers=headers)


def status_for(error: OperatorError) -> int:
    """The HTTP status for an expected error raised while handling a request.

    An error class that suggests its own status in an ``http_status`` class attribute (the
    store's errors, :mod:`vistter.store.errors`) gets that status.
    """
    if isinstance(error, ApiError):
        return error.status_code
    http_status = getattr(error, "http_status", None)
    if isinstance(http_status, int) and 400 <= http_status <= 599:
        return http_status
    if isinstance(error, TimelineError):
        return 422
    if isinstance(error, UnknownChildError):
        return 404
    if isinstance(error, SupervisionError):
        return 409
    return 400


def handle_operator_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for :class:`~vistter.errors.OperatorError`.

    Runs in the event loop thread. If it raised, the error guard would answer 500.
    """
    assert isinstance(exc, OperatorError)
    return error_response(exc, status_for(exc))


class HttpExceptionHandler:
    """Starlette exception handler for :class:`starlette.exceptions.HTTPException`.

    Called in the event loop thread; if it raised, the error guard would answer 500.
    """

    def __init__(self, known_routes: str, routes: Sequence[BaseRoute] = ()) -> None:
        self._known_routes = known_routes
        self._routes = tuple(routes)

    def _allowed(self, request: Request) -> str | None:
        """Every method some route serves at this path (Starlette's own ``Allow`` names only
        those of the first route that matched the path, one of several for one path)."""
        methods = {
            method
            for route in self._routes
            if route.matches(request.scope)[0] is not Match.NONE
            for method in (getattr(route, "methods", None) or ())
        }
        return ", ".join(sorted(methods)) if methods else None

    def __call__(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = {name.title(): value for name, value in (exc.headers or {}).items()}
        if exc.status_code == 405 and (allowed := self._allowed(request)):
            headers["Allow"] = allowed
        error: ApiError
        if exc.status_code == 404:
            error = NotFoundError(
                f"There is no route {request.url.path!r}.",
                hint=f"The control API serves: {self._known_routes}.",
            )
        elif exc.status_code == 405:
            allowed = headers.get("Allow", "")
            error = MethodNotAllowedError(
                f"{request.method} is not allowed on {request.url.path!r}.",
                hint=f"Use one of: {allowed}." if allowed else "Use another HTTP method.",
            )
        else:
            error = BadRequestError(
                str(exc.detail) or f"HTTP error {exc.status_code}.",
                hint="Check the request against the control API documentation.",
            )
        error.headers.update(headers)
        return error_response(error, exc.status_code)


class ErrorGuard:
    """Outermost middleware: any exception nobody handled becomes a generic 500 JSON.

    The traceback is logged (logger ``vistter.api.errors``) with an incident id that is also
    in the response, so an operator can find it; nothing of the exception reaches the client.
    Runs in the event loop thread. If the response had already started, the exception is
    logged and the connection is left for the server to close.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            incident = secrets.token_hex(4)
            logger.exception(
                "control API: unexpected error on %s %s (incident %s)",
                scope.get("method"), scope.get("path"), incident,
            )
            if response_started:
                return
            error = InternalServerError(
                f"An unexpected error happened while handling the request (incident {incident}).",
                hint="This is a bug in Vistter: the appliance log has the details under that "
                "incident id. Retry, and report it if it happens again.",
            )
            await error_response(error)(scope, receive, send)
