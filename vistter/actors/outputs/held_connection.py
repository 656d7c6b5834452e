"""Ending the publisher's TCP connection with a FIN, never a reset.

libavformat's RTMP close sends FCUnpublish and deleteStream, then closes its socket at once.
A socket closed while bytes the server sent are still unread (an acknowledgement, a ping, the
answer to FCUnpublish) makes the kernel send a TCP reset instead of a FIN; the server may then
drop the connection before it reads deleteStream, and nginx-rtmp logs "connection reset by
peer". So the publisher holds a duplicate of the connection's descriptor (:func:`hold`) before
libavformat closes it: libavformat's close then ends nothing, and :meth:`HeldConnection.release`
ends the connection properly: half-close (FIN after deleteStream), read and discard what the
server still sends until it closes its side (or ``timeout``), then close with nothing unread.

Runs in the publisher's main thread; never raises for a failure of the network.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time

__all__ = ["HeldConnection", "hold", "tcp_descriptors"]

_READ_BYTES = 65536


def tcp_descriptors() -> list[int]:
    """The descriptors of this process that are TCP sockets (the publisher has one: its
    connection to the server). Linux (``/proc/self/fd``)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError, ValueError):
                if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                    fd = int(name)
                    if _is_tcp(fd):
                        found.append(fd)
    return found


def _is_tcp(fd: int) -> bool:
    probe = socket.socket(fileno=os.dup(fd))
    try:
        return probe.type == socket.SOCK_STREAM and probe.family in (
            socket.AF_INET, socket.AF_INET6,
        )  # fmt: skip
    finally:
        probe.close()


class HeldConnection:
    """A duplicate of a TCP connection's descriptor, kept so the connection outlives the
    close of the original descriptor until :meth:`release`."""

    def __init__(self, fd: int) -> None:
        self._socket = socket.socket(fileno=os.dup(fd))

    def release(self, timeout: float = 2.0) -> bool:
        """Half-close, drain what the server sends until it closes (at most ``timeout`` s),
        close. Returns True when the server closed its side in time (a clean end)."""
        conn = self._socket
        clean = False
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                conn.settimeout(left)
                if not conn.recv(_READ_BYTES):
                    clean = True
                    break
        except OSError:
            pass  # reset or timed out: close with whatever is left
        finally:
            conn.close()
        return clean


def hold() -> HeldConnection | None:
    """Hold this process's one TCP connection, or None when it has none (never connected)
    or more than one (then it is not clear which to hold)."""
    fds = tcp_descriptors()
    if len(fds) != 1:
        return None
    try:
        return HeldConnection(fds[0])
    except OSError:
        return None
