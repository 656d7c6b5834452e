"""``python -m chaos run`` and ``python -m chaos soak``: the chaos harness's command line.

``run [--scenario N ...] [--repeat N] [--short] [--out DIR]`` runs each chosen scenario (all
13 by default) on a fresh rig, ``--repeat`` times, printing one pass line per run; then the
table (median and max over the repeats). ``DIR`` (default ``var/chaos``) receives
``report.json``, ``table.md`` and, per run, ``NN-rK/scenario-NN.png`` with the rig's logs
and recordings. Exit code 0 when every run passed, 1 otherwise, 2 for bad arguments.

``soak --hours H --fault-every M [--out DIR]`` keeps ONE rig on air for H hours and injects a
random scenario's fault (short form) every M minutes; see :mod:`chaos.harness.soak`.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from chaos.harness.report import summarise, table, write_json
from chaos.harness.runner import ScenarioRun, run_scenario
from chaos.harness.scenarios import SCENARIOS, by_number

__all__ = ["COMMANDS", "main"]

COMMANDS = ("run", "soak")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run scenarios of the fault table")
    run.add_argument(
        "--scenario",
        type=int,
        action="append",
        metavar="N",
        help=f"scenario number (repeatable; default all of {[s.number for s in SCENARIOS]})",
    )
    run.add_argument("--repeat", type=int, default=1, metavar="N")
    run.add_argument("--short", action="store_true", help="short fault durations (CI)")
    run.add_argument("--out", type=Path, default=Path("var/chaos"))
    run.add_argument(
        "--keep-recordings",
        action="store_true",
        help="keep each rig's recordings (default: deleted after judging)",
    )
    soak = commands.add_parser("soak", help="one rig for hours, a random fault every M min")
    soak.add_argument("--hours", type=float, required=True)
    soak.add_argument("--fault-every", type=float, required=True, metavar="MINUTES")
    soak.add_argument("--out", type=Path, default=Path("var/chaos-soak"))
    soak.add_argument("--seed", type=int, default=None)
    return parser


def run_command(
    numbers: Sequence[int], repeat: int, short: bool, out: Path, keep_recordings: bool = False
) -> int:
    scenarios = [by_number(n) for n in numbers]
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    runs: list[ScenarioRun] = []
    began = time.monotonic()
    for scenario in scenarios:
        for index in range(1, repeat + 1):
            workdir = out / f"{scenario.number:02d}-r{index}"
            shutil.rmtree(workdir, ignore_errors=True)
            fresh = by_number(scenario.number)
            run = run_scenario(fresh, workdir, short, index)
            runs.append(run)
            print(run.pass_line(), flush=True)
            if not keep_recordings:
                shutil.rmtree(workdir / "rig" / "nginx" / "rec", ignore_errors=True)
                shutil.rmtree(workdir / "rig" / "srt", ignore_errors=True)
    summary = summarise(runs)
    text = table(summary)
    print()
    print(text)
    (out / "table.md").write_text(text + "\n")
    write_json(out / "report.json", runs, summary, {
        "scenarios": list(numbers), "repeat": repeat, "short": short,
        "seconds": round(time.monotonic() - began, 1),
    })  # fmt: skip
    print(
        f"\nreport: {out / 'report.json'}; table: {out / 'table.md'}; charts: "
        f"{out}/NN-rK/scenario-NN.png"
    )
    return 0 if all(run.status == "PASS" for run in runs) else 1


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        if args.repeat < 1:
            _parser().error("--repeat must be at least 1")
        numbers = args.scenario or [s.number for s in SCENARIOS]
        try:
            for number in numbers:
                by_number(number)
        except ValueError as exc:
            _parser().error(str(exc))
        return run_command(numbers, args.repeat, args.short, args.out, args.keep_recordings)
    if not (args.hours > 0 and args.fault_every > 0):
        _parser().error("--hours and --fault-every must be above zero")
    from chaos.harness.soak import soak  # noqa: PLC0415 (only the soak needs it)

    return soak(args.hours, args.fault_every, args.out, args.seed)
