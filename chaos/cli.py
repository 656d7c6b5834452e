"""Command line for the fault proxy: ``python -m chaos.proxy --listen ... --target ...``.

``python -m chaos run ...`` and ``python -m chaos soak ...`` run the chaos harness instead
(:mod:`chaos.harness.command`); any other arguments are the proxy's.

Runs one :class:`~chaos.proxy.FaultProxy` for ``--seconds`` (or until SIGTERM/SIGINT), prints
``listening HOST:PORT -> TARGET mode=MODE`` once bound, and a JSON ``stats`` line when it stops.
With ``--stdin`` each line read from standard input is a mode spec (as for ``--mode``) or
``stats``; the proxy answers ``ok MODE``, a JSON stats line, or ``error ...``.

Mode specs: ``passthrough``, ``up``, ``down``, ``blackhole``, ``latency:MS[:JITTER_MS]``,
``bandwidth:BYTES_PER_SECOND``, ``reset`` (reset open connections once) and ``reset:persist``.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

from chaos.proxy import FaultProxy, ProxyError

_POLL_S = 0.2


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 as ``[::1]:PORT``) to a (host, port) pair."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:1935)")
    return host.strip("[]"), int(port)


def apply_mode(proxy: FaultProxy, spec: str) -> None:
    """Switch ``proxy`` to the mode named by ``spec``; raises ProxyError for a bad spec."""
    name, _, rest = spec.strip().partition(":")
    args = rest.split(":") if rest else []
    try:
        if name in ("passthrough", "up") and not args:
            proxy.passthrough()
        elif name == "down" and not args:
            proxy.down()
        elif name == "blackhole" and not args:
            proxy.blackhole()
        elif name == "latency" and 1 <= len(args) <= 2:
            proxy.latency(*(float(arg) for arg in args))
        elif name == "bandwidth" and len(args) == 1:
            proxy.bandwidth(float(args[0]))
        elif name == "reset" and args in ([], ["persist"]):
            proxy.reset(persist=bool(args))
        else:
            raise ValueError(spec)
    except ValueError:
        raise ProxyError(
            f"Unknown mode spec {spec.strip()!r}.",
            hint="Use passthrough, up, down, blackhole, latency:MS[:JITTER_MS], "
            "bandwidth:BYTES_PER_SECOND, reset or reset:persist.",
        ) from None


def _answer(line: str) -> None:
    print(line, flush=True)


def _serve_stdin(proxy: FaultProxy, deadline: float, stop: threading.Event) -> None:
    fd = sys.stdin.fileno()
    pending = b""
    stdin_open = True
    while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
        if not stdin_open:
            stop.wait(min(remaining, _POLL_S))
            continue
        ready, _, _ = select.select([fd], [], [], min(remaining, _POLL_S))
        if not ready:
            continue
        data = os.read(fd, 4096)
        stdin_open = bool(data)
        pending += data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            _command(proxy, line.decode(errors="replace").strip())


def _command(proxy: FaultProxy, line: str) -> None:
    if not line:
        return
    try:
        if line == "stats":
            _answer(json.dumps(proxy.stats()))
        else:
            apply_mode(proxy, line)
            _answer(f"ok {proxy.mode}")
    except ProxyError as exc:
        _answer(f"error {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the proxy, or the harness (``run`` / ``soak``, see :mod:`chaos.harness.command`);
    returns the process exit code (2 for bad arguments)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in ("run", "soak"):
        from chaos.harness.command import main as harness_main  # noqa: PLC0415 (heavy imports)

        return harness_main(arguments)
    parser = argparse.ArgumentParser(prog="python -m chaos.proxy", description=__doc__)
    parser.add_argument("--listen", type=parse_address, default=("127.0.0.1", 0))
    parser.add_argument("--target", type=parse_address, required=True)
    parser.add_argument("--mode", default="passthrough", help="initial mode spec")
    parser.add_argument("--seconds", type=float, default=60.0, help="run this long, then stop")
    parser.add_argument("--stdin", action="store_true", help="read mode specs from stdin")
    parser.add_argument("--allow-non-loopback", action="store_true")
    args = parser.parse_args(arguments)
    if not args.seconds > 0:
        parser.error("--seconds must be above zero")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    deadline = time.monotonic() + args.seconds
    try:
        proxy = FaultProxy(
            *args.target,
            *args.listen,
            allow_non_loopback=args.allow_non_loopback,
        )
        with proxy:
            apply_mode(proxy, args.mode)
            host, port = args.listen[0], proxy.port
            _answer(
                f"listening {host}:{port} -> {args.target[0]}:{args.target[1]} mode={proxy.mode}"
            )
            if args.stdin:
                _serve_stdin(proxy, deadline, stop)
            else:
                stop.wait(max(0.0, deadline - time.monotonic()))
            _answer(json.dumps(proxy.stats()))
    except ProxyError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0
