"""OS processes owned by exactly one actor.

An actor starts its ffmpeg (or any other program) through its :class:`ProcessSet`. When the
actor stops, crashes or is declared hung, every process in the set is ended by PID:
terminate, wait, then kill. Nothing in Vistter ever kills a process by name.

Every child gets the allow-listed environment of :func:`vistter.supervisors.child_env.
child_environment` (never the API token, stream keys or passwords Vistter itself may have
in its environment), and a secret it must read goes to its stdin as a
:class:`~vistter.supervisors.secret_input.SecretInput`, never into its argv.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, Any

from vistter.supervisors.child_env import child_environment
from vistter.supervisors.secret_input import SecretInput

logger = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 3.0


class OwnedProcess:
    """A child process and the name it is known by in status and logs.

    ``args_for_log`` is what is shown instead of the real command line, so that credentials
    in a camera URL or a stream key in a destination URL never reach a log.
    """

    def __init__(self, name: str, popen: subprocess.Popen[bytes], args_for_log: str) -> None:
        self.name = name
        self.popen = popen
        self.args_for_log = args_for_log

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def end(self, grace: float = DEFAULT_GRACE_SECONDS) -> int | None:
        """Terminate, wait up to ``grace`` seconds, then kill. Returns the exit code.

        Runs in whichever thread calls it; safe to call more than once.
        """
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.terminate()
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                logger.warning("process %s (pid %d) ignored SIGTERM; killing", self.name, self.pid)
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.close()
        return self.popen.returncode


class ProcessSet:
    """The processes one actor owns. Thread-safe.

    The owning actor spawns and ends processes from its own thread; its supervisor may call
    :meth:`end_all` from the supervisor's thread when the actor does not stop in time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: dict[int, OwnedProcess] = {}

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        args_for_log: str | None = None,
        stdin: int | IO[Any] | SecretInput | None = subprocess.DEVNULL,
        stdout: int | IO[Any] | None = subprocess.DEVNULL,
        stderr: int | IO[Any] | None = subprocess.DEVNULL,
        bufsize: int = -1,
        pass_fds: Sequence[int] = (),
        env: dict[str, str] | None = None,
    ) -> OwnedProcess:
        """Start ``argv`` as a new process owned by this set.

        The process gets its own session, so a Ctrl-C at the terminal reaches Vistter, which
        then ends it in order, instead of reaching ffmpeg first. Its environment is the
        allow-list of :func:`~vistter.supervisors.child_env.child_environment` plus ``env`` (no
        secrets there). A :class:`~vistter.supervisors.secret_input.SecretInput` as ``stdin`` is
        written into a pipe the process reads as its stdin (closed here after the start).
        Raises ``OSError`` when the process cannot be started.
        """
        secret_pipe: int | None = None
        if isinstance(stdin, SecretInput):
            secret_pipe = stdin.open_pipe()
            stdin = secret_pipe
        try:
            popen = subprocess.Popen(
                list(argv),
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                bufsize=bufsize,
                pass_fds=tuple(pass_fds),
                env=child_environment(env),
                start_new_session=True,
            )
        finally:
            if secret_pipe is not None:
                os.close(secret_pipe)
        process = OwnedProcess(name, popen, args_for_log if args_for_log is not None else name)
        with self._lock:
            self._processes[popen.pid] = process
        logger.info("started %s (pid %d): %s", name, popen.pid, process.args_for_log)
        return process

    def end(self, process: OwnedProcess, grace: float = DEFAULT_GRACE_SECONDS) -> int | None:
        """End one process and forget it."""
        code = process.end(grace)
        with self._lock:
            self._processes.pop(process.pid, None)
        return code

    def end_all(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """End every process, newest first."""
        with self._lock:
            processes = list(self._processes.values())
        for process in reversed(processes):
            self.end(process, grace)

    def pids(self) -> list[int]:
        """PIDs of the processes still running."""
        with self._lock:
            return [pid for pid, process in self._processes.items() if process.alive()]
