"""The ``vistter`` command: run the appliance, validate a timeline, watch telemetry, hash the
console's admin password.

Exit codes: 0 success; 1 the timeline is invalid or the appliance stopped on a failure;
2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TextIO

from vistter import __version__
from vistter.errors import VistterError

logger = logging.getLogger("vistter")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vistter", description="Unattended 24/7 live-streaming appliance."
    )
    parser.add_argument("--version", action="version", version=f"vistter {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="start the appliance (supervision tree and API)")
    run.add_argument("--config", type=Path, help="configuration file (default: the demo)")
    run.add_argument(
        "--to", action="append", default=[], metavar="URL",
        help="also publish to rtmp[s]://HOST/APP/KEY or srt://HOST:PORT[?passphrase=...] "
        "(repeatable)",
    )

    validate = commands.add_parser("validate", help="check a timeline file")
    validate.add_argument("timeline", type=Path, help="timeline JSON in the spec's format")
    validate.add_argument("--config", type=Path, help="check cameras and assets against it")
    validate.add_argument(
        "--no-config", action="store_true", help="skip the checks that need a configuration"
    )

    render = commands.add_parser("render", help="render a timeline offline to an MP4 file")
    render.add_argument("timeline", type=Path, help="timeline JSON in the spec's format")
    render.add_argument("--out", type=Path, required=True, help="the MP4 file to write")
    render.add_argument("--duration", type=float, help="seconds (default: the timeline's)")
    render.add_argument("--config", type=Path, help="cameras and assets (default: the demo)")
    render.add_argument(
        "--start", type=datetime.fromisoformat, default=None, metavar="ISO_TIME",
        help="the wall-clock time dynamic text shows at frame 0 (default 2000-01-01T12:00)",
    )

    telemetry = commands.add_parser("telemetry", help="print messages from the telemetry bus")
    telemetry.add_argument("--topic", help="only topics starting with this prefix")
    telemetry.add_argument("--endpoint", help="ZeroMQ endpoint (default: from the config)")
    telemetry.add_argument("--config", type=Path, help="configuration file (default: the demo)")
    telemetry.add_argument("--count", type=int, help="stop after this many messages")
    telemetry.add_argument("--timeout", type=float, help="stop after this many seconds")

    chaos = commands.add_parser(
        "chaos", add_help=False,
        help="the chaos harness, as `python -m chaos`: `vistter chaos run --short`, "
        "`vistter chaos soak --hours 2 --fault-every 10` (from a source checkout)",
    )
    chaos.add_argument("arguments", nargs=argparse.REMAINDER)

    commands.add_parser(
        "hash-password", aliases=["passwd"],
        help="read the console's admin password (tty or stdin), print its argon2 hash for "
        "[api] admin_password_hash",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if args.command == "chaos":  # everything after `chaos` is the harness's, `--help` too
        args.arguments = [*unknown, *args.arguments]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s",
    )
    try:
        if args.command == "run":
            return cmd_run(args.config, args.to)
        if args.command == "render":
            return cmd_render(args)
        if args.command == "validate":
            return cmd_validate(args.timeline, args.config, args.no_config, sys.stdout)
        if args.command == "chaos":
            from vistter.chaos_command import cmd_chaos

            return cmd_chaos(args.arguments)
        if args.command in ("hash-password", "passwd"):
            from vistter.password_cli import cmd_hash_password

            return cmd_hash_password(sys.stdin, sys.stdout, sys.stderr)
        return cmd_telemetry(args)
    except VistterError as error:
        print(f"vistter: {error.problem}", file=sys.stderr)
        if error.hint:
            print(f"  how to fix: {error.hint}", file=sys.stderr)
        return EXIT_USAGE


def cmd_validate(
    timeline: Path, config_path: Path | None, no_config: bool, out: TextIO
) -> int:
    from vistter.models.config import load_config
    from vistter.models.validation import TimelineInvalid, load_timeline_file

    config = None if no_config else load_config(config_path)
    try:
        document = load_timeline_file(timeline, config)
    except TimelineInvalid as invalid:
        print(f"{timeline}: {len(invalid.problems)} problem(s)", file=out)
        for problem in invalid.problems:
            print(f"  {problem.path}: {problem.message}", file=out)
            if problem.hint:
                print(f"      how to fix: {problem.hint}", file=out)
        return EXIT_FAILED
    cues = sum(1 for _ in document.timeline.iter_cues())
    print(f"{timeline}: valid ({cues} cues, {document.timeline.duration:g} s)", file=out)
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    from vistter.models.config import load_config
    from vistter.render.command import DEFAULT_START, render_timeline

    config = load_config(args.config)
    result = render_timeline(
        args.timeline, args.out, config, duration=args.duration,
        start=args.start or DEFAULT_START,
    )
    print(
        f"{result.path}: {result.frames} frames, {result.width}x{result.height}@{result.fps}, "
        f"{result.duration:g} s, encoded in {result.encode_seconds:.1f} s"
    )
    return EXIT_OK


def cmd_telemetry(args: argparse.Namespace) -> int:
    from vistter.models.config import load_config
    from vistter.telemetry import run_telemetry_cli

    endpoint = args.endpoint or load_config(args.config).telemetry.endpoint
    return run_telemetry_cli(
        endpoint, args.topic, sys.stdout, max_messages=args.count, timeout=args.timeout
    )


def cmd_run(config_path: Path | None, to: Sequence[str] = ()) -> int:
    """Run until SIGINT/SIGTERM (exit 0) or until the tree gives up (exit 1)."""
    from vistter.appliance import Appliance
    from vistter.memory import limit_malloc_arenas
    from vistter.models.config import load_config
    from vistter.models.quick import with_quick_destinations
    from vistter.supervisors.guard import end_stray_children

    limit_malloc_arenas()  # before any thread: RSS stays flat across restarts (vistter.memory)
    config = with_quick_destinations(load_config(config_path), list(to))
    for warning in config.warnings():
        logger.warning("%s", warning)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    appliance = Appliance(config)
    appliance.start()
    api = config.api
    logger.info("control API on http://%s:%d/api/health", api.host, api.port)
    logger.info("telemetry on %s", config.telemetry.endpoint)
    try:
        while not stop.is_set() and not appliance.exited.is_set():
            stop.wait(0.5)
    finally:
        appliance.stop()
        end_stray_children()
    if stop.is_set():
        logger.info("stopped cleanly")
        return EXIT_OK
    exit_ = appliance.exit
    logger.error("the appliance stopped: %s", exit_.error if exit_ else "unknown reason")
    return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
