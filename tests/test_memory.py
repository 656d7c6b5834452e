"""``limit_malloc_arenas`` caps glibc's arenas: threads started afterwards share two arenas
(counted from glibc's own ``malloc_info`` report in a fresh interpreter) instead of one each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import ctypes, sys, threading
from vistter.memory import limit_malloc_arenas
applied = limit_malloc_arenas(2) if sys.argv[1] == "limit" else None
ready = threading.Barrier(12)
def work():
    ready.wait()  # all alive at once, so each needs an arena of its own
    kept = [bytearray(200_000) for _ in range(5)]
    ready.wait()
threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
report = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, report)
libc.fclose(report)
print(applied)
"""


def _arenas(tmp_path: Path, mode: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    report = tmp_path / f"malloc-{mode}.xml"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(report)],
        capture_output=True, text=True, timeout=60, check=True, env=env,
    )  # fmt: skip
    return report.read_text().count("<heap nr="), done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc arenas")
@pytest.mark.timeout(120)
def test_threads_share_two_arenas_once_limited(tmp_path: Path) -> None:
    default, _ = _arenas(tmp_path, "default")
    limited, applied = _arenas(tmp_path, "limit")
    assert applied == "True"
    assert limited <= 2 < default


@pytest.mark.timeout(60)
def test_an_operators_malloc_arena_max_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vistter.memory import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
