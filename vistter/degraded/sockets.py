"""How many bytes a publisher process has handed to its TCP connection that the server has
not acknowledged yet: the kernel's send queue (``tx_queue`` in ``/proc/<pid>/net/tcp``).

Why: a destination whose link is slower than the stream first fills the socket buffers
(several MB on loopback), and only then blocks its publisher, its stdin pipe and at last its
fanout queue. The send queue grows from the first second the link falls behind, so adding it
to the fanout queue judges the destination by bytes the server actually acknowledged.

Linux only; anywhere else (or for a process that is gone or not ours) the answer is None and
only the fanout queue counts. Runs in the caller's thread; never raises.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["send_backlog"]

_ESTABLISHED = "01"


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(fd_dir / name)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def send_backlog(pid: int) -> int | None:
    """Bytes queued unacknowledged on ``pid``'s established TCP connections, or None when it
    cannot be read (no such process, no /proc, no TCP connection)."""
    try:
        inodes = _socket_inodes(pid)
        if not inodes:
            return None
        total, found = 0, False
        for table in ("tcp", "tcp6"):
            path = Path(f"/proc/{pid}/net/{table}")
            if not path.exists():
                continue
            for line in path.read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) < 10 or fields[9] not in inodes or fields[3] != _ESTABLISHED:
                    continue
                total += int(fields[4].split(":")[0], 16)
                found = True
        return total if found else None
    except (OSError, ValueError):
        return None
