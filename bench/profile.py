"""Optional: where the Vistter Python process spends its CPU, measured with yappi.

``yappi`` (``.venv/bin/pip install yappi``; not a project dependency) is a deterministic
profiler that measures per-thread CPU time (``clock_type="cpu"``) of every Python and
builtin call, numpy's C functions and blocking pipe reads/writes included. The Vistter
process (``bench/vistter_side.py``) starts it on SIGUSR1 and on SIGUSR2 stops it and writes a
summary: CPU seconds per thread, and per thread the functions with the most self time.
Signal handlers run in the main thread, between two bytecodes.

py-spy was tried first: on this box it counted threads blocked on a condition as busy, in
both its blocking and non-blocking modes, so its samples said nothing about CPU.

Profiling costs the measured process CPU (every call is hooked): a profiled run's figures
are reported but must not be quoted as the benchmark's.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

from bench.report import thread_name_group

TOP_FUNCTIONS = 8


def _yappi() -> Any:
    try:
        return importlib.import_module("yappi")
    except ImportError:
        raise RuntimeError("yappi is not installed: .venv/bin/pip install yappi") from None


def start() -> None:
    """Start measuring CPU time in every thread (existing and new). Main thread."""
    yappi = _yappi()
    yappi.stop()
    yappi.clear_stats()
    yappi.set_clock_type("cpu")
    yappi.start(builtins=True, profile_threads=True)


def stop_and_write(path: Path) -> None:
    """Stop measuring and write the summary to ``path`` (written last, so a reader that sees
    the file sees all of it). Main thread."""
    yappi = _yappi()
    yappi.stop()
    lines: list[str] = []
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    threads = sorted(yappi.get_thread_stats(), key=lambda t: t.ttot, reverse=True)
    total = sum(t.ttot for t in threads)
    lines.append(f"yappi: {total:.2f} CPU s in {len(threads)} threads (profiler overhead in)")
    for thread in threads:
        if thread.ttot < 0.005:
            continue
        name = thread_name_group(names.get(thread.tid, "(ended thread)"))
        lines.append(f"  {name}: {thread.ttot:.3f} s")
        functions = yappi.get_func_stats(filter={"ctx_id": thread.id})
        ranked = sorted(functions, key=lambda f: f.tsub, reverse=True)[:TOP_FUNCTIONS]
        for func in ranked:
            if func.tsub < 0.002:
                break
            where = f"{Path(func.module).name}:{func.lineno}" if func.lineno else func.module
            lines.append(
                f"      {func.tsub:7.3f} s self {func.ncall:8d} calls  {func.name} ({where})"
            )
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n")
    temporary.replace(path)
    yappi.clear_stats()
