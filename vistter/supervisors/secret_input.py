"""Bytes a child process reads on its stdin that hold a secret.

:meth:`vistter.supervisors.processes.ProcessSet.spawn` accepts a :class:`SecretInput` as
``stdin``: the payload is written into a pipe whose write end is closed before the process
starts, so a secret reaches the process without its argv (``/proc/<pid>/cmdline``, readable
by every local user), its environment or the disk. See :mod:`vistter.media.secrets` for
what ffmpeg does with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["MAX_SECRET_INPUT", "SecretInput"]

MAX_SECRET_INPUT = 60_000
"""Bytes a :class:`SecretInput` may hold: less than a Linux pipe's 64 KiB buffer, so writing
it before the reader exists can never block."""


@dataclass(frozen=True)
class SecretInput:
    """Bytes a child process reads on its stdin, holding a secret (never in ``repr``)."""

    payload: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.payload) > MAX_SECRET_INPUT:
            raise ValueError(
                f"a secret input holds at most {MAX_SECRET_INPUT} bytes, got {len(self.payload)}"
            )

    def open_pipe(self) -> int:
        """A pipe's read end with the whole payload in it and the write end closed.

        The caller passes it as the child's stdin and closes it after the spawn. Runs in
        the calling thread; raises ``OSError`` when no pipe can be made.
        """
        read_end, write_end = os.pipe()
        try:
            view = memoryview(self.payload)
            while view:
                view = view[os.write(write_end, view) :]
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        return read_end
