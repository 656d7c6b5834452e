"""Streamed asset uploads: the request body goes to disk chunk by chunk, never into memory.

``POST /api/assets`` carries the file itself as the raw request body (no multipart form)::

    curl -X POST --data-binary @logo.png -H 'Content-Type: image/png' \\
         'http://127.0.0.1:8080/api/assets?name=logo.png'

The file name comes from, in this order: the ``?name=`` query parameter, an ``X-Filename``
header (percent-encoded UTF-8, as JavaScript's ``encodeURIComponent`` writes it), or the
``filename`` / ``filename*`` of a ``Content-Disposition`` header. It must be a bare file name:
one with a folder part (``/``, ``\\``) is refused (422) rather than silently shortened. The
``Content-Type`` header is the declared MIME type (optional; ``application/octet-stream`` means
"not declared"); the store checks it against the file's content.

Starlette's multipart parser is not used: it spools the whole upload before the handler runs.
Instead :class:`RequestByteStream` lets :meth:`vistter.store.AssetStore.add`, running in a
worker thread, pull the body from the event loop one chunk at a time, so an upload over the
size limit is stopped at the chunk that passes it and the rest is never read.
"""

from __future__ import annotations

import email.message
from collections.abc import AsyncIterator
from urllib.parse import unquote

import anyio.from_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from vistter.api.body import PathLimit
from vistter.api.errors import ApiError
from vistter.store import AssetNameError, AssetRecord, AssetStore

__all__ = [
    "UPLOAD_PATH",
    "RequestByteStream",
    "UploadInterruptedError",
    "receive_upload",
    "upload_body_limit",
    "upload_filename",
]

#: The route that receives uploads; its body limit is ``[api] max_upload_bytes``.
UPLOAD_PATH = "/api/assets"

_NAME_HINT = (
    "Name the file with ?name=logo.png (or an X-Filename or Content-Disposition header): "
    "a bare file name with its type's extension, no folders."
)


class UploadInterruptedError(ApiError):
    """The client went away before the whole file arrived; nothing was stored (400)."""


def upload_body_limit(max_upload_bytes: int) -> PathLimit:
    """The body limit of the upload route, for :class:`vistter.api.body.BodyLimit`."""
    return PathLimit(
        UPLOAD_PATH,
        max_upload_bytes,
        hint="Upload a smaller file (shorter, smaller or at a lower bitrate), or raise "
        "[api] max_upload_bytes in the appliance config.",
    )


def _from_content_disposition(value: str) -> str | None:
    message = email.message.Message()
    message["content-disposition"] = value
    filename = message.get_filename()
    return filename if filename else None


def _percent_decoded(header: str) -> str:
    try:
        return unquote(header, errors="strict")
    except UnicodeDecodeError:
        raise AssetNameError(
            "the X-Filename header is not percent-encoded UTF-8.",
            hint="Encode the name as encodeURIComponent() does, e.g. caf%C3%A9.png.",
        ) from None


def upload_filename(request: Request) -> str:
    """The file name an upload request gives, as sent (the store cleans it further).

    Runs in the event loop thread. Raises :class:`~vistter.store.AssetNameError` (422) when
    there is none or it has a folder part (a path traversal attempt or a client that sent a
    whole path).
    """
    name = request.query_params.get("name")
    if name is None and (header := request.headers.get("x-filename")) is not None:
        name = _percent_decoded(header)
    if name is None and (disposition := request.headers.get("content-disposition")):
        name = _from_content_disposition(disposition)
    if name is None or not name.strip():
        raise AssetNameError("the upload has no file name.", hint=_NAME_HINT)
    if any(char in name for char in "/\\\x00"):
        raise AssetNameError(
            f"the file name {name[:80]!r} has a folder part; assets are stored by bare "
            "file name only.",
            hint=_NAME_HINT,
        )
    return name


class RequestByteStream:
    """A blocking ``read(size)`` over a request body, for a worker thread.

    ``read`` must be called from a worker thread started by anyio (``run_in_threadpool``):
    each call that needs more bytes pulls the next chunk from the request in the event loop
    (``anyio.from_thread.run``) and waits for it. What ``receive`` raises there (the body
    limit's :class:`~vistter.api.errors.PayloadTooLargeError`, a
    :class:`starlette.requests.ClientDisconnect`) is raised by ``read`` in the worker.
    Returns ``b""`` only at the end of the body.
    """

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._ended = False
        self.received = 0
        """Bytes pulled from the request so far."""

    async def _next_chunk(self) -> bytes | None:
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            return None

    def read(self, size: int, /) -> bytes:
        while not self._buffer and not self._ended:
            chunk = anyio.from_thread.run(self._next_chunk)
            if chunk is None:
                self._ended = True
            else:
                self.received += len(chunk)
                self._buffer = chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


async def receive_upload(request: Request, store: AssetStore) -> AssetRecord:
    """Stream the request's body into ``store`` and return the stored (or identical) asset.

    Runs in the event loop thread; the store's work (writing, hashing, probing) runs in the
    thread pool. Raises the store's typed errors (413, 415, 422, 409), the body limit's
    :class:`~vistter.api.errors.PayloadTooLargeError` and :class:`UploadInterruptedError`;
    in every such case nothing is stored and no file is left behind.
    """
    name = upload_filename(request)
    declared_mime = request.headers.get("content-type")
    chunks = request.stream()
    try:
        return await run_in_threadpool(store.add, name, RequestByteStream(chunks), declared_mime)
    except ClientDisconnect:
        raise UploadInterruptedError(
            "the client disconnected before the whole file arrived; nothing was stored.",
            hint="Upload the file again.",
        ) from None
    finally:
        await chunks.aclose()
