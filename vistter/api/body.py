"""Request bodies: the size limit, the content type, and JSON parsing with a useful error.

The size limit is enforced while the body streams in, on what actually arrives: a declared
``Content-Length`` above the limit is refused before anything is read, and a body without one
(chunked) is refused as soon as the bytes received pass the limit, so no more than the limit
is ever buffered by the API.

One route may need a different limit than the rest: asset uploads stream files far larger than
any JSON document straight to disk. :class:`PathLimit` gives the requests under a path their
own limit (and hint) instead of the general one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
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


_GENERAL_HINT = "Send a smaller document, or raise [api] max_body_bytes in the appliance config."


@dataclass(frozen=True, slots=True)
class PathLimit:
    """Requests whose path is ``prefix`` or lies under it (``prefix + "/..."``) may carry up
    to ``max_bytes`` instead of the general limit; ``hint`` says how to fix a 413 there."""

    prefix: str
    max_bytes: int
    hint: str

    def __post_init__(self) -> None:
        if not self.prefix.startswith("/") or self.prefix.endswith("/"):
            raise ValueError(f"a path limit prefix looks like '/api/assets', got {self.prefix!r}")
        if self.max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {self.max_bytes}")

    def covers(self, path: str) -> bool:
        """Whether ``path`` is the prefix or below it (``/api/assetsX`` is not)."""
        return path == self.prefix or path.startswith(self.prefix + "/")


def _too_large(limit: int, hint: str = _GENERAL_HINT) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"The request body is larger than the limit of {limit} bytes.", hint=hint
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

    ``path_limits`` replace that limit for the paths they cover (the longest matching prefix
    wins), e.g. the asset upload route, whose limit is ``[api] max_upload_bytes``.

    Runs in the event loop thread. A declared length above the limit is answered 413 without
    calling the app. Otherwise the app's ``receive`` raises :class:`PayloadTooLargeError`
    (answered 413 by the exception handlers) on the first chunk that takes the total past
    the limit; the chunk is dropped, not handed on.
    """

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, path_limits: Iterable[PathLimit] = ()
    ) -> None:
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, got {max_body_bytes}")
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path_limits = sorted(path_limits, key=lambda rule: len(rule.prefix), reverse=True)

    def limit_for(self, path: str) -> tuple[int, str]:
        """The body limit for a request path, and the hint a 413 there carries."""
        for rule in self.path_limits:
            if rule.covers(path):
                return rule.max_bytes, rule.hint
        return self.max_body_bytes, _GENERAL_HINT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, hint = self.limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await error_response(_too_large(limit, hint))(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit, hint)
            return message

        await self.app(scope, limited_receive, send)


_VENDOR_JSON = re.compile(r"^application/vnd\.vistter(\.[a-z0-9-]+)*\+json$")
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or Vistter's own ``application/vnd.vistter.*+json``, with no
    charset or ``charset=utf-8``. Any other ``+json`` type (``application/evil+json``) is a
    different format that merely looks like JSON: refused, like every other type."""
    if not content_type:
        return False
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media_type != "application/json" and not _VENDOR_JSON.match(media_type):
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


def _refuse_lone_surrogates(text: str, document: object) -> None:
    """JSON may escape a lone UTF-16 surrogate (``"\\ud800"``); Python parses it into a
    string that cannot be encoded, stored or sent back. Refused at the edge (422)."""
    if _LONE_SURROGATE_ESCAPE.search(text) is None:
        return  # no escape of a surrogate at all: nothing to check
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJsonError(
            "The request body has a lone UTF-16 surrogate escape (\\ud800 to \\udfff) in a "
            "string: it is not a character and cannot be stored.",
            hint="Send text as UTF-8, or escape a character beyond U+FFFF as a surrogate pair.",
        ) from None


class _NonStandardConstantError(ValueError):
    pass


def _reject_constant(name: str) -> NoReturn:
    raise _NonStandardConstantError(name)


def parse_json(body: bytes) -> object:
    """Parse a JSON document, raising :class:`MalformedJsonError` that says where it broke."""
    try:
        text = body.decode("utf-8-sig")  # UTF-8 only (a UTF-16 body is refused), BOM or not
        document = json.loads(text, parse_constant=_reject_constant)
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
        raise _too_deep() from None
    _refuse_lone_surrogates(text, document)
    return document


def _too_deep() -> MalformedJsonError:
    return MalformedJsonError(
        "The request body is nested too deeply to parse.",
        hint="A timeline is a few levels deep; check the document for runaway nesting.",
    )


def check_json_text(body: bytes) -> None:
    """Refuse JSON text that no JSON route could take whatever it means: nested too deeply
    to parse, or with a lone surrogate escape (:class:`MalformedJsonError`, 422). Text that
    is not JSON at all passes: the caller reports that in its own terms. Any thread."""
    try:
        text = body.decode("utf-8-sig")
        document = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # not JSON, not UTF-8: the caller says so in its own terms
        return
    _refuse_lone_surrogates(text, document)


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
