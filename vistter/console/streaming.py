"""The two halves of a long-lived HTTP response shared by the preview and the event stream.

Both run in the event loop of the API's uvicorn thread. :func:`write_body` raises
:class:`TimeoutError` when the client takes nothing for ``timeout`` seconds (the caller ends
the stream: a slow client is dropped, never waited for); :func:`wait_for_disconnect` returns
once the client has gone, after calling ``on_gone``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import Message, Receive, Send


async def write_body(send: Send, body: bytes, *, timeout: float, more_body: bool = True) -> None:
    """Send one chunk of the response body, giving the client ``timeout`` seconds to take it."""
    message: Message = {"type": "http.response.body", "body": body, "more_body": more_body}
    await asyncio.wait_for(send(message), timeout)


async def wait_for_disconnect(receive: Receive, on_gone: Callable[[], None]) -> None:
    """Read the request channel until the client disconnects, then call ``on_gone``."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            on_gone()
            return
