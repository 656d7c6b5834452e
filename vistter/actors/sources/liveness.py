"""Is an ingest whose frames are late still being fed? Evidence that the machine, not the
camera, is slow.

A camera is ``stalled`` when no frame came for its ``stall_timeout``. With every core busy
(another process saturating the box), a healthy camera's frames can be late for the same
reason: the reader thread, or the ingest ffmpeg, did not get a CPU in time. Seen in chaos
scenario 9, where a healthy camera was flagged stalled for a moment several times. Before a
stall is declared, :class:`IngestLiveness` looks for evidence that data is still coming:

* ``pipe_bytes``: raw frame bytes the ingest wrote to its stdout that we have not read yet
  (``FIONREAD`` on the pipe): our reader thread is late, the camera is not;
* ``socket_bytes``: bytes the camera sent that the ingest has not read yet (the receive
  queues of its TCP and UDP sockets, ``/proc/<pid>/net/*``): ffmpeg is late, the camera is not;
* ``cpu_wait``: the share of the last look's interval the ingest's threads spent waiting on
  a run queue (``/proc/<pid>/task/*/schedstat``): ffmpeg is being starved of CPU.

A stopped camera (SIGSTOP, a frozen encoder, a network black hole) shows none of these: its
ingest sleeps in ``poll`` with nothing queued. Everything here is read on demand, only while a
frame is overdue, in the owning actor's thread. Where ``/proc`` is not available (macOS) the
socket and CPU evidence are 0 and only the pipe is looked at. Nothing here raises: a process
that is gone gives no evidence.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import termios
import time
from dataclasses import dataclass

__all__ = ["Backlog", "IngestLiveness", "pipe_backlog", "socket_backlog", "waited_for_cpu"]

CPU_STARVED = 0.5
"""Share of wall time its threads spent waiting for a CPU from which an ingest counts as
starved (a sleeping ffmpeg's wake-ups measured 0-0.2 over 0.3 s windows on the loaded box)."""
_SOCKET_TABLES = ("tcp", "tcp6", "udp", "udp6")


@dataclass(frozen=True)
class Backlog:
    """What was waiting for an ingest at one look (see the module doc)."""

    pipe_bytes: int = 0
    socket_bytes: int = 0
    cpu_wait: float = 0.0

    def reason(self) -> str | None:
        """Why the ingest is still being fed, for the log and status; None when it is not."""
        if self.pipe_bytes > 0:
            return f"{self.pipe_bytes} bytes of frames wait unread in its pipe"
        if self.socket_bytes > 0:
            return f"{self.socket_bytes} bytes from the camera wait unread on its socket"
        if self.cpu_wait >= CPU_STARVED:
            return f"its ffmpeg waited for a CPU {self.cpu_wait:.0%} of the time"
        return None


def pipe_backlog(fd: int) -> int:
    """Bytes readable from the pipe ``fd`` right now (0 if it is closed or unknown)."""
    count = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.FIONREAD, count, True)
    except (OSError, ValueError):
        return 0
    return max(0, count[0])


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for name in names:
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{name}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def socket_backlog(pid: int) -> int:
    """Bytes queued for reading on the TCP and UDP sockets of process ``pid`` (its
    receive queues, as ``/proc/<pid>/net/{tcp,tcp6,udp,udp6}`` list them)."""
    inodes = _socket_inodes(pid)
    if not inodes:
        return 0
    total = 0
    for table in _SOCKET_TABLES:
        try:
            with open(f"/proc/{pid}/net/{table}") as rows:
                next(rows, None)  # the header
                for row in rows:
                    fields = row.split()
                    if len(fields) > 9 and fields[9] in inodes:
                        total += int(fields[4].partition(":")[2], 16)
        except (OSError, ValueError):
            continue
    return total


def waited_for_cpu(pid: int) -> float:
    """Seconds the threads of process ``pid`` have spent waiting on a run queue, in total
    (the second field of each ``/proc/<pid>/task/<tid>/schedstat``); 0 when unknown."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    total = 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                total += int(stat.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


class IngestLiveness:
    """The evidence of one ingest process (``pid``, its stdout pipe ``stdout_fd``).

    :meth:`watch` starts the CPU-wait measurement (call it once a frame is overdue by half
    the stall timeout, so that a look at the stall timeout covers a quarter second or more:
    a sleeping ffmpeg's wake-ups make short windows noisy); :meth:`look` returns the
    :class:`Backlog` now, its CPU wait averaged since :meth:`watch`; :meth:`relax` ends the
    measurement once frames are on time again. The CPU wait is measured on real time
    (``time.monotonic``), as the kernel's counters are. Actor thread; nothing raises.
    """

    def __init__(self, pid: int, stdout_fd: int) -> None:
        self.pid = pid
        self.stdout_fd = stdout_fd
        self._baseline: tuple[float, float] | None = None

    def watch(self) -> None:
        """Take the CPU-wait baseline now unless one is taken already."""
        if self._baseline is None:
            self._baseline = (time.monotonic(), waited_for_cpu(self.pid))

    def relax(self) -> None:
        """Frames are on time again: drop the baseline."""
        self._baseline = None

    def look(self) -> Backlog:
        """The backlog now: the pipe first (cheapest), then the sockets, then the share of
        the time since :meth:`watch` the ingest waited for a CPU (0 without a baseline)."""
        pipe = pipe_backlog(self.stdout_fd)
        if pipe > 0:
            return Backlog(pipe_bytes=pipe)
        sockets = socket_backlog(self.pid)
        if sockets > 0:
            return Backlog(socket_bytes=sockets)
        baseline = self._baseline
        now = time.monotonic()
        if baseline is None or now <= baseline[0]:
            return Backlog()
        share = (waited_for_cpu(self.pid) - baseline[1]) / (now - baseline[0])
        return Backlog(cpu_wait=max(0.0, share))
