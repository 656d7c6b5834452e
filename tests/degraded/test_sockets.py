"""A publisher's unacknowledged bytes are read from the kernel: a real loopback connection
to a server that does not read holds what was sent in its send queue."""

from __future__ import annotations

import os
import socket

from vistter.degraded.sockets import send_backlog


def test_bytes_a_server_does_not_read_show_in_the_send_queue() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(5)
        client = socket.create_connection(server.getsockname(), timeout=5)
        peer, _ = server.accept()
        try:
            before = send_backlog(os.getpid()) or 0  # other connections of this process
            client.setblocking(False)
            sent = 0
            try:
                while sent < 64 << 20:
                    sent += client.send(b"\0" * 65536)
            except BlockingIOError:
                pass  # the receiver's buffer and our send buffer are full
            backlog = send_backlog(os.getpid())
            assert backlog is not None and before < backlog <= before + sent
        finally:
            client.close()
            peer.close()


def test_a_process_that_is_gone_has_no_backlog() -> None:
    assert send_backlog(2**22 + 12345) is None
