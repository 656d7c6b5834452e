"""CPU of one actor call through ``ActorRef.proxy()`` against ``ask(ProxyCall)``.

Status reads (``/api/status``, the console's polling, the supervision tree, the chaos
sampler) ask several actors each; building a Pykka proxy introspects every attribute of the
actor each time. This measures both ways of asking the same running actor the same question,
one after the other in one run, and prints the ratio (CPU time of the calling thread plus the
actor's, from ``time.process_time``: the whole process, which runs nothing else).

Run: ``.venv/bin/python -m bench.status_read [--calls N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from vistter.supervisors.calls import ask_method
from vistter.supervisors.handle import RootSupervisor
from vistter.supervisors.spec import SupervisorFlags


def _cpu_per_call(call: Callable[[], Any], calls: int) -> float:
    """CPU seconds per call, after 50 warm-up calls."""
    for _ in range(50):
        call()
    start = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    root = RootSupervisor(SupervisorFlags(), [])
    ref = root.handle.ref
    try:
        through_proxy = _cpu_per_call(
            lambda: ref.proxy().which_children().get(timeout=5.0), args.calls
        )
        through_ask = _cpu_per_call(
            lambda: ask_method(ref, "which_children").get(timeout=5.0), args.calls
        )
    finally:
        root.stop()
    print(f"a supervisor's which_children(), {args.calls} calls each way:")
    print(f"  proxy():          {through_proxy * 1e6:8.1f} us CPU per call")
    print(f"  ask(ProxyCall):   {through_ask * 1e6:8.1f} us CPU per call")
    print(f"  ratio proxy/ask:  {through_proxy / through_ask:8.1f}")


if __name__ == "__main__":
    main()
