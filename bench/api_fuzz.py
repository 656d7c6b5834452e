"""Fuzz the control API of a running appliance with schemathesis, then check it survived.

The appliance is the built-in demo (three simulated cameras, the spec's timeline live and
looping, a recorder) with its data folder and recordings in a temporary folder and the API on
a free port of 127.0.0.1. Before the run a timeline and an asset are stored; schemathesis then
reads ``/api/openapi.json`` and sends what it generates from it (examples, boundary values,
random and invalid data, stateful sequences following the document's links) for a time budget,
checking every answer: no 5xx, the status, content type, headers and body as documented, and
invalid data refused. After the run the show must still be live, the program still advancing
(the mixer's frame counter grows), no actor restarted, and the stored timeline and asset
exactly as before.

Left out of the run: ``/api/show/stop`` and ``/api/show/pause`` (they would end or hold the
show the run must leave live), every endless stream (an operation whose answer the document
says is ``text/event-stream`` or ``video/mp2t``: ``/api/events``, ``/api/preview.ts``),
restarting actors, and adding or removing destinations (a generated destination would publish
to a generated host).
Requests that would replace a stored record with a valid document or delete it are sent to an
id that does not exist instead (see :mod:`bench.api_fuzz_hooks`); invalid ones reach it.

``python -m bench.api_fuzz --max-time 600`` runs it for longer and prints the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pykka
from PIL import Image

from vistter.appliance import Appliance
from vistter.models.config import DEFAULT_CONFIG_PATH, ApplianceConfig, parse_config

REPO = Path(__file__).resolve().parents[1]
SPEC_TIMELINE = REPO / "config" / "daily-marina.timeline.json"
LEFT_OUT = r"^/api/(show/(stop|pause)|supervision/restart|destinations(/.*)?)$"
#: Answers that never end: an operation that sends one is left out of the run.
ENDLESS_MEDIA_TYPES = frozenset({"text/event-stream", "video/mp2t"})
CHECKS_NOT_RUN = (
    # every request the document allows need not succeed: a cue id must exist in the show
    "positive_data_acceptance",
    # the appliance under test has no token (loopback): nothing to ignore or authorize
    "ignored_auth",
    "object_level_authorization",
)


def demo_config(folder: Path) -> ApplianceConfig:
    """The demo configuration with its data, recordings and a copy of the assets in
    ``folder``, the API and telemetry on free ports."""
    raw = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    raw["api"]["port"] = 0
    raw["telemetry"]["endpoint"] = "tcp://127.0.0.1:*"
    raw["paths"]["data_dir"] = str(folder / "var")
    assets = folder / "assets"  # uploads land here: a copy, never the repository's folder
    shutil.copytree(REPO / "assets", assets, ignore=shutil.ignore_patterns("*.py"))
    raw["paths"]["assets_dir"] = str(assets)
    for destination in raw["destinations"]:
        if destination.get("platform") == "recorder":
            destination["path"] = str(folder / "recordings")
    return parse_config(raw, base_dir=DEFAULT_CONFIG_PATH.parent, env={})


@contextmanager
def demo_appliance(folder: Path) -> Iterator[tuple[Appliance, str]]:
    """The running demo appliance and its API's base URL; stopped on exit."""
    appliance = Appliance(demo_config(folder))
    appliance.start()
    try:
        port = appliance.root.handle.child("api").proxy().bound_port().get(timeout=10)
        yield appliance, f"http://127.0.0.1:{port}"
    finally:
        appliance.stop()
        pykka.ActorRegistry.stop_all(timeout=10)


@dataclass(frozen=True)
class Seeded:
    """What was stored before the run, as the API showed it."""

    timeline_id: int
    asset_id: int
    timeline: dict[str, Any]
    asset: dict[str, Any]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 32), (200, 30, 30, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def seed_library(base: str) -> Seeded:
    """Store the spec's timeline and a small PNG; raises if the API refuses either."""
    created = httpx.post(f"{base}/api/timelines", timeout=30,
                         json=json.loads(SPEC_TIMELINE.read_text(encoding="utf-8")))
    created.raise_for_status()
    uploaded = httpx.post(f"{base}/api/assets", params={"name": "fuzz-seed.png"},
                          content=_png(), headers={"content-type": "image/png"}, timeout=30)
    uploaded.raise_for_status()
    timeline_id, asset_id = int(created.json()["id"]), int(uploaded.json()["id"])
    return Seeded(timeline_id, asset_id, *stored(base, timeline_id, asset_id))


def stored(base: str, timeline_id: int, asset_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored timeline (with its document) and asset, as the API answers them now."""
    timeline = httpx.get(f"{base}/api/timelines/{timeline_id}", timeout=30)
    asset = httpx.get(f"{base}/api/assets/{asset_id}", timeout=30)
    return timeline.json(), asset.json()


@dataclass
class FuzzResult:
    """What schemathesis did and found."""

    exit_code: int
    seconds: float
    requests: int
    statuses: Counter[int] = field(default_factory=Counter)
    test_cases: int = 0
    failures: list[str] = field(default_factory=list)
    output: str = ""

    def summary(self) -> str:
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        classes = ", ".join(f"{kind}: {count}" for kind, count in sorted(by_class.items()))
        return (
            f"{self.requests} requests ({classes}), {self.test_cases} test cases in "
            f"{self.seconds:.0f} s, "
            f"{len(self.failures)} failures, schemathesis exit code {self.exit_code}"
        )


def run_schemathesis(
    base: str, seeded: Seeded, *, max_time: int, workdir: Path, seed: int | None = None,
) -> FuzzResult:
    """Run ``st run`` against ``base`` for ``max_time`` seconds (plus loading); bounded by a
    hard timeout of twice that. The HAR report gives the request count and statuses."""
    report_dir = workdir / "reports"
    left_out = "|".join([LEFT_OUT, *(f"^{re.escape(path)}$" for path in endless_paths(base))])
    command = [
        str(Path(sys.executable).parent / "st"), "run", f"{base}/api/openapi.json",
        "--max-time", str(max_time), "--workers", "1",
        "--checks", "all", "--exclude-checks", ",".join(CHECKS_NOT_RUN),
        "--exclude-path-regex", left_out,
        "--request-timeout", "20", "--suppress-health-check", "all",
        "--report", "har,json", "--report-dir", str(report_dir),
        "--no-color",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "bench.api_fuzz_hooks",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "VISTTER_FUZZ_PROTECTED": json.dumps(
            {"timelines": [seeded.timeline_id], "assets": [seeded.asset_id]}
        ),
    }
    started = time.monotonic()
    limit = 2 * max_time + 60
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=env,
                              timeout=limit, check=False)
        result = FuzzResult(done.returncode, time.monotonic() - started, 0,
                            output=done.stdout + done.stderr)
    except subprocess.TimeoutExpired as expired:  # the child is killed by now
        output = expired.stdout if isinstance(expired.stdout, str) else ""
        result = FuzzResult(-1, time.monotonic() - started, 0, output=output)
        result.failures.append(f"schemathesis did not finish within {limit} s (a request hung?)")
    for har in report_dir.glob("har-*.json"):
        try:
            entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
        except (json.JSONDecodeError, KeyError):
            result.failures.append(f"the HAR report {har.name} is incomplete")
            continue
        result.requests += len(entries)
        result.statuses.update(int(entry["response"]["status"]) for entry in entries)
    for report in report_dir.glob("json-*.json"):
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            result.failures.append(f"the JSON report {report.name} is incomplete")
            continue
        result.test_cases += int(data["test_cases"]["generated"])
        result.failures += [json.dumps(failure)[:600] for failure in data["failures"]]
        result.failures += [json.dumps(error)[:600] for error in data["errors"]]
    return result


def endless_paths(base: str) -> list[str]:
    """The paths of the operations whose answer is an endless stream, from the document."""
    document = httpx.get(f"{base}/api/openapi.json", timeout=30).json()
    return sorted(
        path
        for path, methods in document["paths"].items()
        for entry in methods.values()
        for answer in entry["responses"].values()
        if ENDLESS_MEDIA_TYPES & set(answer.get("content", {}))
    )


def mixer_frames(base: str) -> int:
    """The program mixer's frame counter, from ``GET /api/status``."""
    status = httpx.get(f"{base}/api/status", timeout=30).json()
    return int(status["program"]["mixer"]["frames"])


def restarts(base: str) -> dict[str, int]:
    """Every actor that restarted, with its restart count."""
    found: dict[str, int] = {}
    stack = [httpx.get(f"{base}/api/supervision", timeout=30).json()]
    while stack:
        node = stack.pop()
        if node.get("restarts"):
            found[str(node["path"])] = int(node["restarts"])
        stack.extend(node.get("children") or [])
    return found


def aftermath(base: str, seeded: Seeded) -> list[str]:
    """What is wrong after the run (empty: the appliance came through)."""
    wrong: list[str] = []
    state = httpx.get(f"{base}/api/show", timeout=30).json()["state"]
    if state != "live":
        wrong.append(f"the show is {state}, not live")
    before = mixer_frames(base)
    time.sleep(1.0)
    after = mixer_frames(base)
    if after - before < 15:  # 30 fps: a second is 30 frames; half of that at the very least
        wrong.append(f"the program advanced {after - before} frames in 1 s")
    if restarted := restarts(base):
        wrong.append(f"actors restarted: {restarted}")
    timeline, asset = stored(base, seeded.timeline_id, seeded.asset_id)
    if timeline != seeded.timeline:
        wrong.append(f"the stored timeline changed: {json.dumps(timeline)[:300]}")
    if asset != seeded.asset:
        wrong.append(f"the stored asset changed: {json.dumps(asset)[:300]}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=600, help="seconds of fuzzing")
    parser.add_argument("--seed", type=int, default=None, help="schemathesis seed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vistter-fuzz-") as folder:
        work = Path(folder)
        with demo_appliance(work) as (_, base):
            seeded = seed_library(base)
            result = run_schemathesis(base, seeded, max_time=args.max_time, workdir=work,
                                      seed=args.seed)
            wrong = aftermath(base, seeded)
    print(result.output[-3000:])
    print("statuses:", dict(sorted(result.statuses.items())))
    print("result:", result.summary())
    for failure in result.failures:
        print("FAILURE:", failure)
    for problem in wrong:
        print("AFTER THE RUN:", problem)
    ok = result.exit_code == 0 and not result.failures and not wrong and result.requests > 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
