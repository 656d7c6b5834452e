"""Destination faults (scenarios 4, 5, 6, 13) injected by the fault proxy in front of
destination ``a`` (or, for a rejected key, by the server's publish hook)."""

from __future__ import annotations

import itertools
import math
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import psutil

from chaos.harness.appliance import ApiError, node_pids
from chaos.harness.measures import first, fmt, since
from chaos.harness.rig import BITRATE_KBPS, REJECTED_KEY, RigOptions
from chaos.harness.scenario import Check, Context, Measured, Scenario
from chaos.harness.scenarios.common import healthy_frames
from vistter.models.degraded import DegradedConfig

__all__ = ["DestinationBlackholed", "DestinationRefuses", "DestinationSlow", "KeyRejected"]

BACK_LIMIT = 3.0


class _ProcessCpu:
    """CPU seconds of the processes a supervision node owns (its publisher, its spare) since
    :meth:`start`: a process alive then counts from its CPU then, a later one from its start
    (up to the last look at it). The publisher's argv names no server (the URL comes on its
    stdin), so the node's PIDs from ``/api/supervision`` tell which processes are a
    destination's. Harness thread only."""

    def __init__(self, ctx: Context, node_id: str) -> None:
        self._ctx = ctx
        self._node_id = node_id
        self._before: dict[int, float] = {}
        self._last: dict[int, float] = {}

    def look(self) -> None:
        try:
            pids = node_pids(self._ctx.rig.app.get("/api/supervision", timeout=3.0), self._node_id)
        except ApiError:
            return
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            self._last[pid] = times.user + times.system

    def start(self) -> None:
        """From now on: what the processes alive now used so far does not count."""
        self._last.clear()
        self.look()
        self._before = dict(self._last)

    def seconds(self) -> float:
        return sum(cpu - self._before.get(pid, 0.0) for pid, cpu in self._last.items())


def _back(ctx: Context, restored: float) -> float | None:
    """When ``a`` was live again after ``restored``: its state is live AND nginx's bytes for
    key a grew over the next second (a held connection flushing is not a live publisher)."""
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        live = ctx.wait_for(lambda s: s.destinations.get("a") == "live", 1.0)
        if live is None:
            continue
        before = ctx.rig.ingest.bytes_in().get("a")
        ctx.hold(1.0)
        after = ctx.rig.ingest.bytes_in().get("a")
        still = ctx.sampler.latest()
        if (
            before is not None
            and after is not None
            and after > before
            and still is not None
            and still.destinations.get("a") == "live"
        ):
            return live
    return None


def _back_check(ctx: Context, restored: float, back: float | None) -> Check:
    took = since(back, restored)
    ctx.figures["restore_s"] = None if took is None else round(took, 2)
    return Check(
        f"a back <= {BACK_LIMIT:g} s after the network returns",
        took is not None and took <= BACK_LIMIT,
        fmt(took),
    )


class DestinationBlackholed(Scenario):
    number = 4
    title = "one destination black-holed 30 s"
    criteria = "others lose 0 frames; it is back <= 3 s after the network returns"
    _back: float | None = None

    def inject(self, ctx: Context) -> None:
        ctx.hurt.append("a")
        fault = ctx.mark("fault")
        ctx.rig.proxies["a"].blackhole()
        ctx.hold(12.0 if ctx.short else 30.0)
        ctx.rig.proxies["a"].passthrough()
        restored = ctx.mark("restored")
        ctx.window("a black-holed", fault, restored)
        self._back = _back(ctx, restored)

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        fault, restored = ctx.marks["fault"], ctx.marks["restored"]
        detected = first(ctx.samples(), lambda s: s.destinations.get("a") != "live", fault)
        ctx.figures["detect_s"] = since(detected, fault)
        starved = measured.figures["starved_a_s"]
        return [
            healthy_frames(ctx, measured, 0),
            Check(
                "a's outage measured at the server",
                starved >= (restored - fault) * 0.5,
                f"server got nothing from a for {starved:.2f} s of a {restored - fault:.0f} s "
                f"black hole; frame gap {measured.figures['gap_a_s']:.2f} s, "
                f"{measured.figures['lost_a']} lost; a left 'live' "
                f"{fmt(since(detected, fault))} in",
            ),
            _back_check(ctx, restored, self._back),
        ]


class DestinationRefuses(Scenario):
    number = 5
    title = "one destination refuses connections for 5 min"
    criteria = "spec's backoff; retries cost < 2 % of a core; back <= 3 s after it accepts"
    _back: float | None = None
    _attempts: list[tuple[float, int]]
    #: attempt -> the largest ``next_retry_in`` the API showed while it was due (its backoff)
    _declared: dict[int, float]

    def inject(self, ctx: Context) -> None:
        ctx.hurt.append("a")
        self._declared = {}
        cpu = _ProcessCpu(ctx, "destination-a")
        cpu.start()
        fault = ctx.mark("fault")
        ctx.rig.proxies["a"].down()
        self._attempts = []
        deadline = time.monotonic() + (30.0 if ctx.short else 300.0)
        looks = 0
        while time.monotonic() < deadline:
            looks += 1
            if looks % 4 == 0:  # about once a second
                cpu.look()
            for destination in ctx.rig.app.get("/api/destinations").get("destinations", []):
                if destination.get("id") == "a":
                    attempt = int(destination.get("attempt") or 0)
                    if not self._attempts or self._attempts[-1][1] != attempt:
                        self._attempts.append((ctx.now(), attempt))
                    due = destination.get("next_retry_in")
                    if isinstance(due, int | float):
                        self._declared[attempt] = max(self._declared.get(attempt, 0.0), due)
            ctx.hold(0.25)
        cpu.look()
        refused_for = ctx.now() - fault
        ctx.figures["retry_cpu_pct"] = round(100 * cpu.seconds() / refused_for, 2)
        ctx.rig.proxies["a"].up()
        restored = ctx.mark("restored")
        ctx.window("a refuses", fault, restored)
        self._back = _back(ctx, restored)

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        restored = ctx.marks["restored"]
        # from the first failure on (attempt >= 1). Two views: the backoff the engine
        # declares (the first next_retry_in the API shows for each attempt, polled every
        # 0.25 s) must follow the spec within 25 %; the measured time between attempts is
        # that backoff plus how long an attempt takes to fail, and must never be shorter
        times = [t for t, attempt in self._attempts if attempt >= 1]
        intervals = [round(b - a, 1) for a, b in itertools.pairwise(times)]
        declared = [round(self._declared[n], 1) for n in sorted(self._declared) if n >= 1]
        measured.figures["retry_intervals_s"] = str(intervals)
        measured.figures["retry_backoffs_s"] = str(declared)
        spec = [min(2 ** (n + 1), 60) for n in range(len(declared))]
        follows = all(0.75 * s - 0.3 <= d <= 1.25 * s for d, s in zip(declared, spec, strict=True))
        slower = all(i >= d - 0.3 for i, d in zip(intervals, declared, strict=False))
        cpu = measured.figures["retry_cpu_pct"]
        return [
            Check("retries follow the spec's backoff (2,4,8..60 s)",
                  bool(declared) and follows and slower,
                  f"declared backoffs {declared}; measured intervals {intervals} "
                  "(/api/destinations)"),
            Check("retries cost < 2 % of a core", cpu < 2.0,
                  f"{cpu:.2f} % (CPU of the processes of a's supervision node while refused: "
                  "its publisher attempts and spare)"),
            _back_check(ctx, restored, self._back), healthy_frames(ctx, measured, 0),
        ]  # fmt: skip


class KeyRejected(Scenario):
    number = 6
    title = "one destination's server rejects the stream key"
    criteria = "state says key rejected (not network), an alert says check the key, no hammering"

    def options(self, workdir: Path, short: bool) -> RigOptions:
        return RigOptions(rejected_key_destination=True)

    def inject(self, ctx: Context) -> None:
        ctx.hurt.append("k")
        fault = ctx.mark("fault")  # k is rejected from its first attempt; watch it
        ctx.hold(20.0 if ctx.short else 60.0)
        ctx.window("k's key rejected", fault, ctx.mark("restored"))

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        attempts = [e for e in ctx.rig.ingest.events(REJECTED_KEY) if e.call == "publish"]
        watched = ctx.marks["restored"] - ctx.marks["fault"]
        allowed = _spec_attempts(watched) + 1
        measured.figures["key_attempts"] = len(attempts)
        measured.figures["key_attempts_per_min"] = round(60 * len(attempts) / watched, 1)
        last = ctx.sampler.latest()
        state = last.destinations.get("k", "?") if last else "?"
        error = last.errors.get("k", "") if last else ""
        about_k = [e for e in ctx.tap.alerts() if _names_destination_k(e.payload)]
        # the message itself must name the key: a hint listing "the server URL, the stream
        # key or passphrase and the network" for every failure does not tell them apart
        keyed = [e.text() for e in about_k if "key" in str(e.payload.get("message", "")).lower()]
        return [
            Check(
                "state says the key was rejected",
                "key" in f"{state} {error}".lower(),
                f"state={state!r} last_error={error[:120]!r}",
            ),
            Check(
                "an alert says to check the key",
                bool(keyed),
                f"{len(about_k)} alerts about k, {len(keyed)} name the key in their message"
                + (f": {keyed[0][:120]}" if keyed else ""),
            ),
            Check(
                "no hammering (no more attempts than the spec's backoff)",
                len(attempts) <= allowed,
                f"{len(attempts)} publish attempts in {watched:.0f} s (backoff allows {allowed})",
            ),
            healthy_frames(ctx, measured, 0),
        ]


def _spec_attempts(seconds: float) -> int:
    """Attempts the spec's backoff (2, 4, 8, 16, 32, 60 s) makes within ``seconds``."""
    attempts, at, retry = 1, 0.0, 0
    while (at := at + min(2 ** (retry + 1), 60)) <= seconds:
        attempts += 1
        retry += 1
    return attempts


def _names_destination_k(payload: dict[str, object]) -> bool:
    values = {str(v).lower() for v in payload.values()}
    if str(payload.get("source", "")).lower().endswith(":k"):
        return True
    return bool(values & {"k", "destination-k", "outputs/destination-k"}) or any(
        "destination k" in v or "destination 'k'" in v for v in values
    )


CAP_SHARE = 0.6
"""Scenario 13 caps destination ``a`` at this share of the configured bitrate."""
FAST_DEGRADED = (
    "[degraded]", "check_interval = 1", "sustain = 3", "hold = 6", "stable = 10",
    "heights = []", "fps_steps = []",
)
"""Degraded mode for scenario 13: the network ladder of the defaults (20 % a step, 40 %
floor) walked within the short run (the default timers, 10 s, 30 s, 30 s, only wait
longer). The load ladder keeps the program's size and rate: this scenario is about the
network, and the harness counts frames at the program's rate on a machine other work may
saturate (a lower rate would read as lost frames)."""
APPLY_SECONDS = 10.0
"""What one step takes to reach the encoder's output on top of the ladder's timers: the
planned handover to the new encode and ffmpeg's averaged bitrate settling on it."""


def ladder_seconds(config: DegradedConfig) -> float:
    """How long ``config``'s network ladder may take to walk from the configured bitrate to
    its floor: the sustain before the first step, then a hold before each further one, each
    reading up to a check interval late and each step applied by a handover."""
    steps = math.ceil((100 - config.bitrate_floor_percent) / config.bitrate_step_percent)
    per_step = config.hold + config.check_interval + APPLY_SECONDS
    return config.sustain + config.check_interval + steps * per_step


def rig_degraded(rig_toml: Path) -> DegradedConfig:
    """The ``[degraded]`` section the rig wrote for Vistter (defaults where it wrote none)."""
    return DegradedConfig.model_validate(tomllib.loads(rig_toml.read_text()).get("degraded", {}))


class _DegradedWatch:
    """Follows ``degraded`` in ``/api/status`` twice a second (harness thread): when the first
    step came, the levels and the lowest bitrate asked."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.first_step: float | None = None
        self.first_reason = ""
        self.lowest_asked: int | None = None
        self.max_level = 0
        self.downs = 0
        self.ups = 0
        self.recovered: float | None = None
        self._level = 0

    def follow(
        self,
        until: float,
        *,
        stop_when_normal: bool = False,
        reached: Callable[[], bool] | None = None,
    ) -> None:
        """Read the status until ``until`` (harness time), or until degraded mode is off again
        (``stop_when_normal``), or until ``reached()`` says what was awaited has come."""
        while self._ctx.now() < until:
            if reached is not None and reached():
                return
            try:
                degraded = self._ctx.rig.app.get("/api/status", timeout=3.0).get("degraded")
            except (ApiError, AttributeError):
                degraded = None
            if isinstance(degraded, dict):
                self._seen(degraded)
                if stop_when_normal and not degraded.get("active"):
                    self.recovered = self._ctx.now()
                    return
            time.sleep(0.5)

    def _seen(self, degraded: dict[str, object]) -> None:
        level = degraded.get("network_level")
        if not isinstance(level, int):
            return
        if level > self._level:
            self.downs += level - self._level
            if self.first_step is None:
                self.first_step = self._ctx.now()
                self.first_reason = str(degraded.get("reason") or "")
        elif level < self._level:
            self.ups += self._level - level
        self._level = level
        self.max_level = max(self.max_level, level)
        asked = degraded.get("bitrate_kbps")
        if isinstance(asked, int):
            self.lowest_asked = asked if self.lowest_asked is None else min(self.lowest_asked,
                                                                            asked)


class DestinationSlow(Scenario):
    number = 13
    title = "destination slow (bandwidth capped below the bitrate)"
    criteria = ("degraded mode lowers the bitrate below the cap and the destination stays "
                "live; others unaffected")

    def options(self, workdir: Path, short: bool) -> RigOptions:
        return RigOptions(extra_config=FAST_DEGRADED)

    def inject(self, ctx: Context) -> None:
        ctx.hurt.append("a")
        cap = BITRATE_KBPS * 1000 / 8 * CAP_SHARE
        ctx.figures["cap_kbps"] = round(cap * 8 / 1000)
        watch = _DegradedWatch(ctx)
        # the rig's own ladder sets how long the walk down may take: the short form's rig
        # uses FAST_DEGRADED, a soak's rig the product's defaults (minutes, not seconds)
        ladder = ladder_seconds(rig_degraded(ctx.rig.workdir / "rig.toml"))
        ctx.figures["degraded_ladder_s"] = round(ladder)
        fault = ctx.mark("fault")
        ctx.rig.proxies["a"].bandwidth(cap)
        cap_kbps = ctx.figures["cap_kbps"]

        def below_cap() -> bool:  # the encoder's output has come down under the cap
            recent = [s.encoder_kbps for s in ctx.samples(fault) if s.encoder_kbps]
            return watch.first_step is not None and bool(recent) and recent[-1] <= cap_kbps

        if ctx.short:  # until the output is under the cap, at most the ladder's walk
            watch.follow(fault + max(45.0, ladder), reached=below_cap)
        else:  # the full form keeps the cap 90 s (or the whole walk) to show it holds
            watch.follow(fault + max(90.0, ladder))
        ctx.rig.proxies["a"].passthrough()
        restored = ctx.mark("restored")
        ctx.window(f"a capped at {CAP_SHARE:.0%} of the bitrate", fault, restored)
        if not ctx.short:  # the way back up: one step per stable period
            watch.follow(restored + 90.0, stop_when_normal=True)
        first_step = since(watch.first_step, fault)
        if watch.first_reason:
            ctx.notes.append(f"first degraded step: {watch.first_reason}")
        ctx.figures["degraded_first_step_s"] = None if first_step is None else round(first_step, 1)
        ctx.figures["degraded_steps_down"] = watch.downs
        ctx.figures["degraded_steps_up"] = watch.ups
        ctx.figures["degraded_lowest_asked_kbps"] = watch.lowest_asked
        recovered = since(watch.recovered, restored)
        ctx.figures["degraded_recovered_s"] = None if recovered is None else round(recovered, 1)

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        fault, restored = ctx.marks["fault"], ctx.marks["restored"]
        inside = [s for s in ctx.samples(fault) if s.t <= restored]
        before = [s.encoder_kbps for s in ctx.samples() if s.t < fault and s.encoder_kbps]
        # ffmpeg's bitrate is its output (video, audio, MPEG-TS) averaged over its run: after
        # each planned handover a new run starts, so its average is the new encode's rate
        lowest = min((s.encoder_kbps for s in inside if s.encoder_kbps), default=0.0)
        base = max(before[-5:], default=0.0)
        not_live = sum(1 for s in inside if s.destinations.get("a") != "live")
        figures = measured.figures
        figures["encoder_kbps_before"] = round(base)
        figures["encoder_kbps_lowest"] = round(lowest)
        first_step = figures["degraded_first_step_s"]
        return [
            Check(
                "degraded mode lowered the bitrate below the cap",
                0 < lowest <= figures["cap_kbps"] and first_step is not None,
                f"encoder output {base:.0f} -> lowest {lowest:.0f} kbps (cap "
                f"{figures['cap_kbps']} kbps); first step {fmt(first_step)} after the cap, "
                f"{figures['degraded_steps_down']} steps down to "
                f"{figures['degraded_lowest_asked_kbps']} kbps video",
            ),
            Check(
                "a stays live", not_live == 0, f"a not live in {not_live} of {len(inside)} samples"
            ),
            healthy_frames(ctx, measured, 0),
        ]
