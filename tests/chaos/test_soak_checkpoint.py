"""The soak's checkpoint: ``soak-progress.json`` (footprints, faults so far, per-hour slopes)
and ``soak.png`` are rewritten after every footprint sample, so a soak stopped early still
shows what it saw. Synthetic footprints with known slopes; the chart is read back as a PNG.
Also what the soak's report figures from: the healthy destinations' window and scenario 13's
wait under the rig's own degraded ladder."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from chaos.harness.appliance import ProcessFootprint, VistterProcess
from chaos.harness.ingest import PublishEvent
from chaos.harness.recordings import DestinationTrace, Frame, Session
from chaos.harness.rig import FPS
from chaos.harness.sampler import Sample, Sampler
from chaos.harness.scenario import Check, Context, Measured, Scenario
from chaos.harness.scenarios.engine import publishes_between
from chaos.harness.scenarios.outputs import (
    APPLY_SECONDS,
    FAST_DEGRADED,
    ladder_seconds,
    rig_degraded,
)
from chaos.harness.soak import _checkpoint, _judge_faults, _loop, healthy_figures


def sampler_with_cpu(tmp_path: Path, seconds: int) -> Sampler:
    """A sampler that never started (no rig): only its samples are read by the chart."""
    app = VistterProcess(tmp_path / "rig.toml", 1, tmp_path / "vistter.log")
    sampler = Sampler(app, dict, [], t0=0.0)
    sampler.samples = [Sample(t=float(t), ok=True, cpu_pct=20.0 + t % 7) for t in range(seconds)]
    return sampler


def footprints_over(minutes: int) -> list[dict[str, float]]:
    """One footprint a minute: RSS +3 MB/h, threads +2/h, fds flat, 7 descendants."""
    return [
        {"t": 60.0 * m, "rss_mb": 120.0 + 3.0 * m / 60, "open_fds": 40.0,
         "threads": 80.0 + 2.0 * m / 60, "descendants": 7.0}
        for m in range(minutes + 1)
    ]  # fmt: skip


def read_progress(out: Path) -> dict[str, object]:
    progress: dict[str, object] = json.loads((out / "soak-progress.json").read_text())
    return progress


def test_checkpoint_writes_footprints_slopes_faults_and_chart(tmp_path: Path) -> None:
    footprints = footprints_over(120)
    injected = [{"number": 1, "at_min": 10.0}, {"number": 12, "at_min": 20.1}]

    _checkpoint(tmp_path, footprints, injected, sampler_with_cpu(tmp_path, 7200))

    progress = read_progress(tmp_path)
    assert progress["minutes"] == 120.0
    assert progress["injected"] == injected
    assert progress["footprints"] == footprints
    assert progress["rss_mb_per_hour"] == pytest.approx(3.0, abs=0.01)
    assert progress["threads_per_hour"] == pytest.approx(2.0, abs=0.01)
    assert progress["fds_per_hour"] == 0.0
    with Image.open(tmp_path / "soak.png") as chart:
        assert chart.format == "PNG"
        assert chart.size == (1080, 720)  # 12 x 8 inches at 90 dpi
        colours = chart.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 10  # lines drawn, not an empty canvas


def test_each_checkpoint_replaces_the_last(tmp_path: Path) -> None:
    footprints = footprints_over(1)
    sampler = sampler_with_cpu(tmp_path, 60)
    _checkpoint(tmp_path, footprints, [], sampler)
    first = read_progress(tmp_path)
    assert first["minutes"] == 1.0 and first["rss_mb_per_hour"] == pytest.approx(3.0, abs=0.01)

    footprints.append({**footprints[-1], "t": 120.0, "rss_mb": footprints[-1]["rss_mb"] + 1.0})
    _checkpoint(tmp_path, footprints, [{"number": 4, "at_min": 1.5}], sampler)
    second = read_progress(tmp_path)
    assert second["minutes"] == 2.0
    assert second["footprints"] == footprints
    assert second["injected"] == [{"number": 4, "at_min": 1.5}]
    rss_slope = second["rss_mb_per_hour"]
    assert isinstance(rss_slope, float) and rss_slope > 3.0  # the jump shows in the slope


def test_checkpoint_before_any_footprint_says_nothing_yet(tmp_path: Path) -> None:
    _checkpoint(tmp_path, [], [], sampler_with_cpu(tmp_path, 0))
    progress = read_progress(tmp_path)
    assert progress["minutes"] == 0.0 and progress["footprints"] == []
    assert progress["rss_mb_per_hour"] == progress["fds_per_hour"] == 0.0
    assert (tmp_path / "soak.png").stat().st_size > 0


class _Remembering(Scenario):
    """A scenario whose judge needs what its own inject kept (as CameraKill's does)."""

    number = 99
    title = "remembers"

    def inject(self, ctx: Context) -> None:
        self.kept = "from inject"

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        return [Check("kept", self.kept == "from inject", self.kept)]


def test_each_fault_is_judged_by_the_instance_that_injected_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("chaos.harness.soak._common_figures", lambda *_args: {})
    scenario = _Remembering()
    ctx = Context(None, None, None, True, Path("."), marks={"fault": 60.0, "end": 70.0})  # type: ignore[arg-type]
    scenario.inject(ctx)
    faults = _judge_faults([(scenario, ctx)], {})
    assert faults[0]["number"] == 99 and faults[0]["passed"], faults


class _Footprints:
    """A stand-in for the rig's Vistter process: each look at it has 1 MB more RSS."""

    def __init__(self) -> None:
        self.looks = 0

    def footprint(self) -> ProcessFootprint:
        self.looks += 1
        return ProcessFootprint(rss_mb=100.0 + self.looks, threads=50, open_fds=40, descendants=7)


class _Marking(Scenario):
    number = 98
    title = "marks its fault"

    def inject(self, ctx: Context) -> None:
        ctx.mark("fault")

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        return []


def test_each_soak_fault_has_the_footprint_before_and_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scenario's judge reads ``rss_mb_before``/``_after`` (camera kills: RSS back within
    5 %); the soak takes them around each fault as a single run does."""
    monkeypatch.setattr("chaos.harness.soak.by_number", lambda _number: _Marking())
    monkeypatch.setattr("chaos.harness.soak.TAIL_SECONDS", 0.0)
    app = _Footprints()
    rig = SimpleNamespace(app=app)
    base = Context(rig, sampler_with_cpu(tmp_path, 0), None, True, tmp_path)  # type: ignore[arg-type]
    footprints: list[dict[str, float]] = []
    contexts = _loop(base, 2.5 / 3600, 1 / 60, random.Random(1), footprints)
    assert contexts, "no fault injected in 2.5 s with one due every second"
    for _scenario, ctx in contexts:
        figures = ctx.figures
        assert figures["rss_mb_after"] == figures["rss_mb_before"] + 1.0, figures
        assert figures["descendants_before"] == figures["descendants_after"] == 7.0
        assert ctx.marks["start"] <= ctx.marks["fault"] <= ctx.marks["end"]
    assert footprints and footprints[0]["rss_mb"] == 101.0  # the once-a-minute sample


class _Growing(list[Sample]):
    """Samples that grow while they are read, as the sampler's thread appends during a soak."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        snapshot = [*super().__iter__()]
        self.append(Sample(t=float(len(snapshot)), ok=True, cpu_pct=10.0))
        return iter(snapshot)


def test_the_chart_reads_the_samples_once_while_the_sampler_appends(tmp_path: Path) -> None:
    """Two reads of the live list once differed by one sample and ended a soak at 106 min."""
    sampler = sampler_with_cpu(tmp_path, 60)
    sampler.samples = _Growing(sampler.samples)
    _checkpoint(tmp_path, footprints_over(2), [], sampler)
    with Image.open(tmp_path / "soak.png") as chart:
        assert chart.format == "PNG"


def test_the_healthy_figures_leave_out_the_time_before_the_first_frame(tmp_path: Path) -> None:
    """A soak's window used to begin before the rig started: the wait for the first frame
    read as a 2-4 s gap on a destination that lost nothing. The figure is between frames."""
    first = [Frame(100.0 + n / FPS, 100.0 + n / FPS, "camera:1") for n in range(90)]
    # a reconnect: the second session starts 0.5 s after the first one's last frame
    resumed = 100.0 + 89 / FPS + 0.5
    second = [Frame(n / FPS, resumed + n / FPS, "camera:1") for n in range(60)]
    got = healthy_figures(
        DestinationTrace("b", [Session(Path("1.flv"), first), Session(Path("2.flv"), second)]),
        start=97.0,
        end=resumed + 59 / FPS + 0.25,
    )
    assert got["gap_s"] == pytest.approx(0.5)  # not the 3 s before the first frame
    assert got["lost"] == round(0.5 * FPS) - 1
    assert got["frames"] == 150
    assert got["sessions"] == 2
    assert got["first_frame_after_s"] == pytest.approx(3.0)
    assert got["last_frame_before_end_s"] == pytest.approx(0.25)
    nothing = healthy_figures(DestinationTrace("b", []), 0.0, 10.0)
    assert nothing["frames"] == 0 and nothing["gap_s"] == 0.0
    assert nothing["first_frame_after_s"] is None


def test_scenario_13_waits_for_the_ladder_the_rig_was_given(tmp_path: Path) -> None:
    """In a soak the rig runs the product's degraded timers (a 30 s hold a step), not the
    short form's FAST_DEGRADED: the wait for the output to come under the cap follows them."""
    fast = tmp_path / "fast.toml"
    fast.write_text("[api]\nport = 1\n\n" + "\n".join(FAST_DEGRADED) + "\n")
    defaults = tmp_path / "defaults.toml"
    defaults.write_text("[api]\nport = 1\n")
    quick, slow = ladder_seconds(rig_degraded(fast)), ladder_seconds(rig_degraded(defaults))
    # three 20 % steps from 100 % to the 40 % floor
    assert quick == pytest.approx(3 + 1 + 3 * (6 + 1 + APPLY_SECONDS))
    assert slow == pytest.approx(10 + 2 + 3 * (30 + 2 + APPLY_SECONDS))
    assert slow > 2 * 45.0  # the old fixed 45 s saw one step of the three


def test_scenario_7_counts_only_the_publishes_inside_its_window() -> None:
    """In the soak, scenario 7 failed twice on '1 new RTMP publish': destination a
    reconnecting 20 and 60 minutes later, when scenario 5 refused it. Only the fault's own
    window counts."""
    t0 = 1000.0
    events = [
        PublishEvent(t0 + 5.0, "publish", "a", True),  # before the kill
        PublishEvent(t0 + 20.0, "publish_done", "a", True),  # not a publish
        PublishEvent(t0 + 25.0, "publish", "b", True),  # inside: counts
        PublishEvent(t0 + 3600.0, "publish", "a", True),  # a later fault's reconnect
    ]
    assert publishes_between(events, t0, 10.0, 30.0) == [events[2]]
    assert publishes_between(events, t0, 10.0, 24.0) == []
