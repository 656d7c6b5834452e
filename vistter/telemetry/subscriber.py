"""Reading the telemetry bus: a SUB socket with gap accounting, and the ``vistter telemetry``
command's body.

Sequence numbers run per topic and per publisher incarnation, so :class:`GapCounter` keys
its bookkeeping by (publisher id, topic): a prefix filter never looks like a gap, and a
publisher restart (a new id) starts afresh instead of counting as one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self, TextIO

import zmq

from vistter.errors import ConfigError
from vistter.telemetry.codec import TelemetryDecodeError, TelemetryMessage, decode

logger = logging.getLogger(__name__)

_POLL_SLICE = 0.1


class TelemetryConnectError(ConfigError):
    """The telemetry endpoint to subscribe to is malformed or unsupported."""


class GapCounter:
    """Counts messages missed, from jumps in sequence numbers. Not thread-safe: one owner.

    The first message seen from a (publisher, topic) sets the baseline; a jump from ``n`` to
    ``n + k`` counts ``k - 1`` missed; a repeated or older number counts nothing.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], int] = {}
        self._missed: dict[str, int] = {}

    def observe(self, message: TelemetryMessage) -> int:
        """Account for ``message``; returns how many messages were missed just before it."""
        key = (message.publisher, message.topic)
        self._missed.setdefault(message.publisher, 0)
        last = self._last.get(key)
        if last is None or message.seq <= last:
            self._last[key] = max(message.seq, last if last is not None else -1)
            return 0
        missed = message.seq - last - 1
        self._last[key] = message.seq
        self._missed[message.publisher] += missed
        return missed

    @property
    def missed(self) -> dict[str, int]:
        """Missed messages per publisher id (every publisher seen, 0 if none missed)."""
        return dict(self._missed)

    @property
    def missed_total(self) -> int:
        return sum(self._missed.values())

    @property
    def publishers(self) -> list[str]:
        """Publisher ids in the order they were first seen."""
        return list(self._missed)


class TelemetrySubscriber:
    """A SUB socket connected to ``endpoint``, subscribed to ``topic_prefixes`` (all topics
    when empty or None). Use as a context manager. Not thread-safe: one owner thread."""

    def __init__(
        self,
        endpoint: str,
        topic_prefixes: Sequence[str] | None = None,
        *,
        rcvhwm: int = 100_000,
    ) -> None:
        self.endpoint = endpoint
        self.topic_prefixes = list(topic_prefixes or [])
        self.gaps = GapCounter()
        self.received = 0
        self.undecodable = 0
        self._rcvhwm = rcvhwm
        self._context: zmq.Context[zmq.Socket[bytes]] | None = None
        self._socket: zmq.Socket[bytes] | None = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Connect and subscribe. Raises :class:`TelemetryConnectError` for a bad endpoint.

        ZeroMQ connects in the background: the first messages published right after this
        returns may be missed (the "slow joiner"); they are not counted as missed.
        """
        if self._socket is not None:
            return
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        socket = context.socket(zmq.SUB)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.RCVHWM, self._rcvhwm)
        try:
            socket.connect(self.endpoint)
        except zmq.ZMQError as exc:
            context.destroy(linger=0)
            raise TelemetryConnectError(
                f"cannot subscribe to telemetry endpoint {self.endpoint!r}: {exc.strerror}.",
                hint="Give an endpoint like tcp://127.0.0.1:5556 (the `endpoint` in the "
                "`[telemetry]` section of the config).",
            ) from exc
        for prefix in self.topic_prefixes or [""]:
            socket.setsockopt(zmq.SUBSCRIBE, prefix.encode("utf-8"))
        self._context, self._socket = context, socket

    def close(self) -> None:
        """Close the socket and its context; harmless to call twice."""
        if self._context is not None:
            self._context.destroy(linger=0)
        self._context = None
        self._socket = None

    def receive(self, timeout: float) -> TelemetryMessage | None:
        """The next message, or None after ``timeout`` seconds without one.

        Runs in the caller's thread. Frames that are not telemetry are counted in
        ``undecodable``, logged and skipped. Every message goes through :attr:`gaps`.
        """
        if self._socket is None:
            raise RuntimeError("TelemetrySubscriber.receive() before open()")
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            remaining = deadline - time.monotonic()
            if not self._socket.poll(max(0, int(remaining * 1000))):
                return None
            frames = self._socket.recv_multipart(flags=zmq.NOBLOCK)
            try:
                message = decode(frames)
            except TelemetryDecodeError as exc:
                self.undecodable += 1
                logger.warning("skipping undecodable telemetry: %s", exc)
                if time.monotonic() >= deadline:
                    return None
                continue
            self.received += 1
            self.gaps.observe(message)
            return message


def format_line(message: TelemetryMessage) -> str:
    """``<iso time> <topic> #<seq> <json payload>``, local time with its UTC offset."""
    when = dt.datetime.fromtimestamp(message.ts, tz=dt.UTC).astimezone()
    payload = json.dumps(
        message.payload, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )
    return f"{when.isoformat(timespec='milliseconds')} {message.topic} #{message.seq} {payload}"


def run_telemetry_cli(
    endpoint: str,
    topic_prefix: str | None,
    out: TextIO,
    *,
    max_messages: int | None = None,
    timeout: float | None = None,
    stop: threading.Event | None = None,
    err: TextIO | None = None,
) -> int:
    """Print telemetry from ``endpoint`` to ``out``, one line per message (see
    :func:`format_line`), until ``max_messages`` were printed, ``timeout`` seconds passed,
    ``stop`` is set, or Ctrl-C. Ends with a ``# ...`` summary line including missed messages.

    Runs in the caller's thread. Returns 0 on any of those ends (also when ``out`` is a
    closed pipe), 2 when the endpoint is unusable (the reason goes to ``err``, default
    stderr).
    """
    errors = err if err is not None else sys.stderr
    subscriber = TelemetrySubscriber(endpoint, [topic_prefix] if topic_prefix else None)
    try:
        subscriber.open()
    except TelemetryConnectError as exc:
        print(f"error: {exc}", file=errors)
        return 2
    deadline = None if timeout is None else time.monotonic() + timeout
    printed = 0
    try:
        while max_messages is None or printed < max_messages:
            if stop is not None and stop.is_set():
                break
            wait = _POLL_SLICE
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    break
            message = subscriber.receive(wait)
            if message is None:
                continue
            out.write(format_line(message) + "\n")
            out.flush()
            printed += 1
        _write_summary(subscriber, out)
    except KeyboardInterrupt:
        _write_summary(subscriber, out)
    except BrokenPipeError:
        pass
    finally:
        subscriber.close()
    return 0


def _write_summary(subscriber: TelemetrySubscriber, out: TextIO) -> None:
    gaps = subscriber.gaps
    detail = ", ".join(f"{pub}: {count}" for pub, count in gaps.missed.items() if count)
    line = (
        f"# received {subscriber.received}, missed {gaps.missed_total}"
        + (f" ({detail})" if detail else "")
        + f", publishers {len(gaps.publishers)}"
        + (f", undecodable {subscriber.undecodable}" if subscriber.undecodable else "")
    )
    try:
        out.write(line + "\n")
        out.flush()
    except (BrokenPipeError, ValueError):
        pass


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)
