"""A wall clock that one process tree sees moved, while the host's stays where it is.

:class:`WallClockShift` builds ``wallclock_shim.c`` (beside this file) with the system C
compiler into a scenario's work directory and gives the environment that preloads it into
Vistter: ``clock_gettime(CLOCK_REALTIME)``, ``gettimeofday`` and ``time`` then read the host
clock plus an offset that :meth:`WallClockShift.set_offset` changes at run time (8 bytes of a
file both sides map shared); the monotonic clocks, sleeps and waits stay the kernel's. That is
what an NTP step does to a process. Why not the alternatives: a time namespace
(``unshare --time``) offsets only the monotonic and boot-time clocks, and Debian's libfaketime
0.9.10 with ``FAKETIME_DONT_FAKE_MONOTONIC`` makes Python 3.11's ``time.sleep`` fail with
EINVAL (its ``clock_nanosleep`` with ``TIMER_ABSTIME``, libfaketime issue #426).

Runs in the harness's thread; :class:`~chaos.harness.scenario.NotInjectable` when no C
compiler is installed (``apt-get install gcc``) or the build fails.
"""

from __future__ import annotations

import mmap
import os
import shutil
import struct
import subprocess
from pathlib import Path

from chaos.harness.scenario import NotInjectable

__all__ = ["OFFSET_FILE_ENV", "SHIM_SOURCE", "WallClockShift"]

SHIM_SOURCE = Path(__file__).with_name("wallclock_shim.c")
OFFSET_FILE_ENV = "VISTTER_WALLCLOCK_OFFSET_FILE"
_OFFSET = struct.Struct("=q")


class WallClockShift:
    """The shim built in ``workdir`` and its offset file (offset 0 until moved).

    Use :meth:`env` for the process to start, :meth:`set_offset` to move its wall clock,
    :meth:`close` when done (unmaps; the files stay in ``workdir``)."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.library = workdir / "libwallclock.so"
        self.offset_file = workdir / "wallclock-offset"
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            raise NotInjectable(
                "moving only Vistter's wall clock needs a C compiler for the preload shim "
                "(apt-get install gcc); the host clock is shared and is never changed"
            )
        built = subprocess.run(
            [compiler, "-shared", "-fPIC", "-O2", "-o", str(self.library), str(SHIM_SOURCE),
             "-ldl"],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        if built.returncode != 0:
            error = built.stderr.decode(errors="replace")[:300]
            raise NotInjectable(f"building the wall-clock shim failed: {error}")
        self.offset_file.write_bytes(_OFFSET.pack(0))
        self._fd = os.open(self.offset_file, os.O_RDWR)
        self._map = mmap.mmap(self._fd, _OFFSET.size)

    def env(self) -> dict[str, str]:
        """Environment variables that make a process (and its dynamically linked children)
        see the shifted wall clock."""
        preload = " ".join(p for p in (str(self.library), os.environ.get("LD_PRELOAD")) if p)
        return {"LD_PRELOAD": preload, OFFSET_FILE_ENV: str(self.offset_file)}

    def set_offset(self, seconds: float) -> None:
        """Move the wall clock of every process using the shim to host time + ``seconds``."""
        _OFFSET.pack_into(self._map, 0, round(seconds * 1e9))

    def offset(self) -> float:
        """The offset now in force, seconds."""
        nanoseconds: int = _OFFSET.unpack_from(self._map, 0)[0]
        return nanoseconds / 1e9

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)
