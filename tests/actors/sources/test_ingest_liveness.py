"""The evidence that an ingest is still being fed, read from real pipes, sockets and
processes: unread bytes in a pipe, unread bytes on a loopback socket, a process starved of
CPU (two busy loops pinned to one core) against one that sleeps."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from vistter.actors.sources.liveness import (
    CPU_STARVED,
    IngestLiveness,
    pipe_backlog,
    socket_backlog,
    waited_for_cpu,
)

LINUX = sys.platform.startswith("linux")


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait(5)
        if child.stdout is not None:
            child.stdout.close()


def _spawn(children: list[subprocess.Popen[bytes]], code: str,
           cpu: int | None = None) -> subprocess.Popen[bytes]:
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE)
    children.append(child)
    if cpu is not None:
        os.sched_setaffinity(child.pid, {cpu})
    return child


def test_unread_bytes_in_a_pipe_are_seen() -> None:
    read_end, write_end = os.pipe()
    try:
        assert pipe_backlog(read_end) == 0
        os.write(write_end, bytes(4000))
        assert pipe_backlog(read_end) == 4000
        os.read(read_end, 1000)
        assert pipe_backlog(read_end) == 3000
        live = IngestLiveness(os.getpid(), read_end)
        backlog = live.look()
        assert backlog.pipe_bytes == 3000
        assert backlog.reason() == "3000 bytes of frames wait unread in its pipe"
    finally:
        os.close(read_end)
        os.close(write_end)
    assert pipe_backlog(read_end) == 0  # closed: no evidence, no error


@pytest.mark.skipif(not LINUX, reason="socket receive queues are read from /proc (Linux)")
@pytest.mark.timeout(10)
def test_unread_bytes_on_a_socket_are_seen() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname(), timeout=2)
        peer, _ = server.accept()
        with client, peer:
            before = socket_backlog(os.getpid())
            peer.sendall(bytes(1400))
            deadline = time.monotonic() + 2
            while socket_backlog(os.getpid()) < before + 1400 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert socket_backlog(os.getpid()) >= before + 1400
            client.recv(1400, socket.MSG_WAITALL)
            assert socket_backlog(os.getpid()) == before
    assert socket_backlog(2**22 + 12345) == 0  # no such process: no evidence


@pytest.mark.skipif(not LINUX, reason="run-queue waits are read from /proc (Linux)")
@pytest.mark.timeout(20)
def test_a_process_starved_of_cpu_is_told_from_one_that_sleeps(
    children: list[subprocess.Popen[bytes]],
) -> None:
    cpu = min(os.sched_getaffinity(0))
    busy = "while True: pass"
    starved = _spawn(children, busy, cpu)
    for _ in range(3):
        _spawn(children, busy, cpu)  # its rivals on the same core
    sleeper = _spawn(children, "import time; print('asleep', flush=True); time.sleep(30)")
    assert sleeper.stdout is not None
    assert sleeper.stdout.readline() == b"asleep\n"  # started up: from now on it sleeps
    time.sleep(0.3)
    assert waited_for_cpu(starved.pid) > 0
    starved_live = IngestLiveness(starved.pid, -1)
    sleeper_live = IngestLiveness(sleeper.pid, -1)
    assert starved_live.look().cpu_wait == 0.0  # no baseline yet: no evidence
    starved_live.watch()
    sleeper_live.watch()
    time.sleep(0.5)
    starved_backlog, sleeper_backlog = starved_live.look(), sleeper_live.look()
    # four busy loops sharing one core each wait about three quarters of the time
    assert starved_backlog.cpu_wait >= CPU_STARVED, starved_backlog
    assert starved_backlog.reason() is not None
    assert sleeper_backlog.cpu_wait < 0.05, sleeper_backlog
    assert sleeper_backlog.reason() is None
    starved_live.relax()
    assert starved_live.look().cpu_wait == 0.0
