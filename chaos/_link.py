"""One proxied TCP connection: two directions, each pumped by a reader task and a writer task.

Everything here runs on the fault proxy's event-loop thread; nothing is thread-safe on its own.

Per direction the *reader* task reads a chunk from one socket, applies the bandwidth limit
(it reads no faster than the rate, so the sender's own buffers fill up as they would on a slow
link), stamps the chunk with the time it may leave (now + latency) and puts it on a bounded queue.
The *writer* task takes chunks in order, waits until each is due and writes it to the other
socket, waiting for the peer to drain before taking the next one. While the proxy is black-holed
both tasks hold still, so nothing moves in either direction and back-pressure reaches the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["to_target", "to_client"]

_CHUNK = 64 * 1024
"""Largest chunk read from a socket in one go."""
_QUEUE_CHUNKS = 64
"""Chunks a direction may hold in flight (read but not yet written): at most 4 MiB."""
_MIN_SLICE = 512
"""Smallest read when throttled, so a very low rate still moves whole small packets."""
_SLICES_PER_SECOND = 20
"""When throttled, read about rate/20 bytes at a time so the flow is smooth, not bursty."""
_CLOSE_GRACE_S = 1.0
"""How long a finished link may take to flush its last bytes before it is aborted."""

_LINGER_RST = struct.pack("ii", 1, 0)


@dataclass
class Faults:
    """The shaping in force, read by every link for every chunk. Loop thread only.

    ``flowing`` is set unless the proxy is black-holed.
    """

    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    latency_s: float = 0.0
    jitter_s: float = 0.0
    bytes_per_second: float | None = None
    rng: random.Random = field(default_factory=random.Random)

    def delay_s(self) -> float:
        """The delay for the next chunk: latency plus a uniform jitter, never negative."""
        if self.jitter_s <= 0:
            return self.latency_s
        jitter = self.rng.uniform(-self.jitter_s, self.jitter_s)
        return max(0.0, self.latency_s + jitter)

    def read_size(self) -> int:
        """How many bytes to read at once under the current bandwidth limit."""
        rate = self.bytes_per_second
        if rate is None:
            return _CHUNK
        return int(min(_CHUNK, max(_MIN_SLICE, rate / _SLICES_PER_SECOND)))


def drop(writer: asyncio.StreamWriter, *, rst: bool) -> None:
    """Close a socket now, discarding anything unsent. Loop thread.

    With ``rst`` the socket gets ``SO_LINGER`` 0 first, so the kernel answers with an RST
    (the peer sees ``ConnectionResetError``); without it the kernel sends a FIN (or an RST if
    unread bytes are left in its receive buffer). Calling it on a closed socket does nothing.
    """
    transport = writer.transport
    if rst and not transport.is_closing():
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    transport.abort()


class Link:
    """A client connection spliced to its own connection to the target. Loop thread only."""

    def __init__(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        target: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        faults: Faults,
        on_bytes: Callable[[Direction, int], None],
    ) -> None:
        self._client_reader, self._client_writer = client
        self._target_reader, self._target_writer = target
        self._faults = faults
        self._on_bytes = on_bytes
        self._tasks: list[asyncio.Task[None]] = []
        self._dropped = False

    async def run(self) -> None:
        """Pump both directions until both reach end of stream or the link is dropped.

        Runs on the loop thread. Returns normally when the link ends, whether cleanly or by an
        I/O error on either side (which resets the other side too). An unexpected exception in
        a pump is a bug: the link is dropped and the exception propagates. Cancelling the
        caller drops the link.
        """
        loop = asyncio.get_running_loop()
        to_target: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(_QUEUE_CHUNKS)
        to_client: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(_QUEUE_CHUNKS)
        self._tasks = [
            loop.create_task(self._guard(self._pull(self._client_reader, to_target))),
            loop.create_task(self._guard(self._push(to_target, self._target_writer, "to_target"))),
            loop.create_task(self._guard(self._pull(self._target_reader, to_client))),
            loop.create_task(self._guard(self._push(to_client, self._client_writer, "to_client"))),
        ]
        graceful = False
        try:
            results = await asyncio.gather(*self._tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    raise result
            graceful = not self._dropped
        finally:
            await self._close(graceful=graceful)

    def drop(self, *, rst: bool) -> None:
        """Close both sockets now and stop the pumps. Loop thread; never raises.

        With ``rst`` both peers get an RST, otherwise a FIN (see :func:`drop`).
        """
        self._dropped = True
        drop(self._client_writer, rst=rst)
        drop(self._target_writer, rst=rst)
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()

    async def _guard(self, pump: Coroutine[Any, Any, None]) -> None:
        """Run one pump; an I/O error on either socket resets the whole link.

        Any other exception is a bug: the link is reset too and the exception propagates.
        """
        try:
            await pump
        except OSError:
            self.drop(rst=True)
        except Exception:
            self.drop(rst=True)
            raise

    async def _pull(
        self, reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes]]
    ) -> None:
        loop = asyncio.get_running_loop()
        faults = self._faults
        next_free = 0.0
        last_due = 0.0
        while True:
            await faults.flowing.wait()
            data = await reader.read(faults.read_size())
            rate = faults.bytes_per_second
            if data and rate is not None:
                now = loop.time()
                next_free = max(now, next_free) + len(data) / rate
                await asyncio.sleep(next_free - now)
            # Never let jitter reorder chunks: a chunk is due no earlier than the one before.
            last_due = max(last_due, loop.time() + faults.delay_s())
            await queue.put((last_due, data))
            if not data:
                return

    async def _push(
        self,
        queue: asyncio.Queue[tuple[float, bytes]],
        writer: asyncio.StreamWriter,
        direction: Direction,
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._faults.flowing.wait()
            if not data:
                # Half-close: pass the end of stream on, keep the other direction open.
                if writer.can_write_eof() and not writer.transport.is_closing():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
            self._on_bytes(direction, len(data))

    async def _close(self, *, graceful: bool) -> None:
        writers = (self._client_writer, self._target_writer)
        try:
            if graceful:
                for writer in writers:
                    writer.close()
                with contextlib.suppress(OSError):
                    async with asyncio.timeout(_CLOSE_GRACE_S):
                        for writer in writers:
                            await writer.wait_closed()
        finally:
            for writer in writers:
                drop(writer, rst=False)
