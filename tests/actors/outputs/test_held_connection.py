"""The publisher's connection ends with a FIN even when the server sent bytes nobody read.

A TCP socket closed with unread received data sends a reset (nginx-rtmp then logs
"connection reset by peer" at Stop). The publisher holds a duplicate of libavformat's
descriptor and releases it by half-closing and draining: the server reads everything the
publisher sent, then a clean end of stream.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from vistter.actors.outputs.held_connection import HeldConnection, tcp_descriptors

pytestmark = pytest.mark.timeout(20)


@contextmanager
def _pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(server side, publisher side) of one loopback TCP connection."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        server, _ = listener.accept()
    try:
        yield server, client
    finally:
        server.close()
        client.close()


def _server_reads(server: socket.socket) -> tuple[bytes, str]:
    """Everything the server receives until the end, and how it ended."""
    server.settimeout(5)
    data = b""
    try:
        while chunk := server.recv(65536):
            data += chunk
    except ConnectionResetError:
        return data, "reset"
    return data, "eof"


def _unread_then_closed(release: bool) -> tuple[bytes, str]:
    with _pair() as (server, client):
        server.sendall(b"ack" * 100)  # what the server sent: the publisher never reads it
        client.sendall(b"deleteStream")
        threading.Event().wait(0.2)  # the server's bytes are in the publisher's buffer
        fd = client.detach()  # the descriptor libavformat owns
        held = HeldConnection(fd) if release else None
        os.close(fd)  # libavformat's close
        if held is None:
            return _server_reads(server)
        result: list[tuple[bytes, str]] = []

        def serve() -> None:  # as nginx-rtmp does: read to the end, then close its side
            result.append(_server_reads(server))
            server.shutdown(socket.SHUT_WR)

        reader = threading.Thread(target=serve)
        reader.start()
        assert held.release(timeout=3.0), "the server's close was not seen"
        reader.join(5)
        return result[0]


def test_a_plain_close_with_unread_data_resets_the_connection() -> None:
    """What the kernel does (why the publisher holds the connection): the reset."""
    _data, how = _unread_then_closed(release=False)
    assert how == "reset"


def test_the_held_connection_ends_with_a_fin_after_everything_sent() -> None:
    data, how = _unread_then_closed(release=True)
    assert how == "eof"
    assert data == b"deleteStream"


def test_only_tcp_sockets_are_found() -> None:
    left, right = socket.socketpair()  # unix sockets: not a server connection
    try:
        with _pair() as (server, client):
            found = tcp_descriptors()
            assert client.fileno() in found and server.fileno() in found
            assert left.fileno() not in found and right.fileno() not in found
    finally:
        left.close()
        right.close()
