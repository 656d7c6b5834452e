"""Request bodies: the size limit, the content type, and JSON parsing with a useful error.

The size limit is enforced while the body streams in, on what actually arrives: a declared
``Content-Length`` above the limit is refused before anything is read, and a body without one
(chunked) is refused as soon as the bytes received pass the limit, so no more than the limit
is ever buffered by the API.
"""

from __future__ import annotations

import json
from typing import NoReturn

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vistter.api.errors import (
    MalformedJsonError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    error_response,
)

_JSON_HINT = (
    "Send a JSON document (for a timeline: the spec format, with the root key \"timeline\"); "
    "check the text around that position."
)


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"The request body is larger than the limit of {limit} bytes.",
        hint="Send a smaller document, or raise [api] max_body_bytes in the appliance config.",
    )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: request bodies may not exceed ``max_body_bytes``.

    Runs in the event loop thread. A declared length above the limit is answered 413 without
    calling the app. Otherwise the app's ``receive`` raises :class:`PayloadTooLargeError`
    (answered 413 by the exception handlers) on the first chunk that takes the total past
    the limit; the chunk is dropped, not handed on.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, got {max_body_bytes}")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await error_response(_too_large(limit))(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or any ``application/*+json``, parameters ignored."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class _NonStandardConstantError(ValueError):
    pass


def _reject_constant(name: str) -> NoReturn:
    raise _NonStandardConstantError(name)


def parse_json(body: bytes) -> object:
    """Parse a JSON document, raising :class:`MalformedJsonError` that says where it broke."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise MalformedJsonError(
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno} (character {exc.pos}).",
            hint=_JSON_HINT,
        ) from None
    except UnicodeDecodeError as exc:
        raise MalformedJsonError(
            f"The request body is not UTF-8 text: invalid byte at offset {exc.start}.",
            hint="Encode the JSON document as UTF-8.",
        ) from None
    except _NonStandardConstantError as exc:
        raise MalformedJsonError(
            f"The request body uses {exc.args[0]}, which is not valid JSON.",
            hint="Use a finite number or null instead.",
        ) from None
    except RecursionError:
        raise MalformedJsonError(
            "The request body is nested too deeply to parse.",
            hint="A timeline is a few levels deep; check the document for runaway nesting.",
        ) from None


async def read_json(request: Request) -> object:
    """Check the content type, read the (size-limited) body and parse it as JSON.

    Runs in the event loop thread. Raises :class:`UnsupportedMediaTypeError` (415),
    :class:`PayloadTooLargeError` (413, from :class:`BodyLimit`) or
    :class:`MalformedJsonError` (422).
    """
    content_type = request.headers.get("content-type")
    if not is_json_media_type(content_type):
        shown = f"{content_type[:100]!r}" if content_type else "no Content-Type"
        raise UnsupportedMediaTypeError(
            f"The request body must be JSON, but it was sent with {shown}.",
            hint="Send the header 'Content-Type: application/json'.",
        )
    return parse_json(await request.body())
