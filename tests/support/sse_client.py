"""A Server-Sent Events client for tests: reads a stream in a thread, stamps each event.

Each parsed event lands in a queue with ``time.perf_counter()`` at the moment its blank line
arrived, so a test in the same process can measure publish-to-receive latency.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: Any
    event_id: str | None
    received: float


class SseReader:
    """Reads ``url`` until :meth:`close` or the end of the stream (then ``ended`` is set)."""

    def __init__(self, url: str, *, timeout: float = 30.0,
                 headers: dict[str, str] | None = None) -> None:
        self.events: queue.Queue[SseEvent] = queue.Queue()
        self.ended = threading.Event()
        self.status: int | None = None
        self.error: BaseException | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, read=timeout),
                                    headers=headers)
        self._url = url
        self._stop = threading.Event()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, name="sse-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self._url) as response:
                self.status = response.status_code
                stream = response.extensions.get("network_stream")
                self._socket = stream.get_extra_info("socket") if stream is not None else None
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if "data" in fields:
                            self.events.put(SseEvent(
                                fields.get("event", "message"), json.loads(fields["data"]),
                                fields.get("id"), time.perf_counter(),
                            ))
                        fields = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
        except httpx.HTTPError as error:
            if not self._stop.is_set():
                self.error = error
        finally:
            self.ended.set()

    def next(self, timeout: float = 5.0) -> SseEvent:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no event within {timeout:g} s (status {self.status}, error {self.error})"
            ) from None

    def next_of(self, event: str, timeout: float = 5.0) -> SseEvent:
        """The next event named ``event``, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event!r} event within {timeout:g} s")
            item = self.next(left)
            if item.event == event:
                return item

    def close(self) -> None:
        """Hang up: shutting the socket down wakes the reader thread blocked in recv."""
        self._stop.set()
        sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._client.close()
        assert not self._thread.is_alive(), "the SSE reader thread did not stop"

    def __enter__(self) -> SseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
