"""Choosing the H.264 encoder by trying it: a short trial encode per candidate.

Device files and platform names say little about whether an encoder really works (a Pi
without the codec overlay, a VAAPI node without a driver, NVENC without libcuda), so each
candidate encodes ten small test frames to ``-f null`` with a timeout, in this order:

1. ``h264_v4l2m2m``      Raspberry Pi (V4L2 mem2mem)
2. ``h264_videotoolbox`` macOS
3. ``h264_vaapi``        Intel/AMD on Linux (``-vaapi_device /dev/dri/renderD128``, upload nv12)
4. ``h264_qsv``          Intel Quick Sync (nv12)
5. ``h264_nvenc``        NVIDIA
6. ``libx264``           software fallback

A candidate the binary does not list in ``-encoders`` is skipped as "not built into this
ffmpeg". The first that encodes wins; every candidate tried before it is kept in
:attr:`EncoderChoice.trials` with a one-line reason (the most telling line of ffmpeg's
stderr), so status pages and logs can say why the box runs in software.

Results are cached per (binary path, preference) for the life of the process; trials run in
the calling thread and take up to ``timeout`` seconds per candidate.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from vistter.errors import ConfigError
from vistter.media.ffmpeg import FfmpegBinary, encoders
from vistter.supervisors.child_env import child_environment

TRIAL_TIMEOUT = 5.0
TRIAL_FRAMES = 10
TRIAL_SOURCE = "testsrc2=size=320x240:rate=30"
ENCODER_HINT = 'Set [encoding] encoder = "auto" or "libx264".'

Outcome = Literal["ok", "not_built", "failed", "timeout"]


class EncoderUnavailableError(ConfigError):
    """The configured encoder is not built into ffmpeg or does not work on this machine."""


class NoUsableEncoderError(ConfigError):
    """Not even the software encoder works with this ffmpeg."""


@dataclass(frozen=True, slots=True)
class EncoderCandidate:
    """An H.264 encoder and the ffmpeg arguments it needs around it.

    ``global_args`` go before the inputs (e.g. the VAAPI device); ``filters`` form the output
    ``-vf`` chain (e.g. upload to the GPU); ``pix_fmt`` is the output pixel format when there
    are no filters. The encoder actor builds its command line from :meth:`output_args`.
    """

    encoder: str
    hardware: bool
    platform: str
    global_args: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    pix_fmt: str | None = "yuv420p"

    def output_args(self) -> list[str]:
        """``-vf``/``-pix_fmt`` and ``-c:v`` for the output side of an ffmpeg command line."""
        args: list[str] = []
        if self.filters:
            args += ["-vf", ",".join(self.filters)]
        elif self.pix_fmt:
            args += ["-pix_fmt", self.pix_fmt]
        return [*args, "-c:v", self.encoder]


CANDIDATES: tuple[EncoderCandidate, ...] = (
    EncoderCandidate("h264_v4l2m2m", True, "Raspberry Pi"),
    EncoderCandidate("h264_videotoolbox", True, "macOS"),
    EncoderCandidate(
        "h264_vaapi",
        True,
        "VAAPI",
        global_args=("-vaapi_device", "/dev/dri/renderD128"),
        filters=("format=nv12", "hwupload"),
        pix_fmt=None,
    ),
    EncoderCandidate("h264_qsv", True, "Intel Quick Sync", filters=("format=nv12",), pix_fmt=None),
    EncoderCandidate("h264_nvenc", True, "NVIDIA"),
    EncoderCandidate("libx264", False, "software"),
)
_BY_NAME = {candidate.encoder: candidate for candidate in CANDIDATES}


@dataclass(frozen=True, slots=True)
class Trial:
    """What happened when one candidate was considered."""

    encoder: str
    outcome: Outcome
    reason: str
    seconds: float = 0.0

    def describe(self) -> str:
        if self.outcome == "not_built":
            return f"{self.encoder} not built into this ffmpeg"
        if self.outcome == "ok":
            return f"{self.encoder} works"
        if self.outcome == "timeout":
            return f"{self.encoder} trial timed out: {self.reason}"
        return f"{self.encoder} trial failed: {self.reason}"


@dataclass(frozen=True, slots=True)
class EncoderChoice:
    """The encoder to use, why, and what happened to every candidate considered."""

    candidate: EncoderCandidate
    reason: str
    trials: tuple[Trial, ...] = field(default=())
    configured: bool = False

    @property
    def encoder(self) -> str:
        return self.candidate.encoder

    @property
    def hardware(self) -> bool:
        return self.candidate.hardware

    def describe(self) -> str:
        """One line for status and logs.

        For example ``libx264 (software): h264_vaapi trial failed: No VA display found ...``.
        """
        kind = "hardware" if self.hardware else "software"
        if self.configured:
            kind += ", configured"
        others = [trial.describe() for trial in self.trials if trial.encoder != self.encoder]
        return f"{self.encoder} ({kind})" + (f": {'; '.join(others)}" if others else "")


_PREFIX = re.compile(r"^(?:\[[^\]]*\]\s*)+")
_GENERIC = re.compile(
    r"Task finished with error code|Terminating thread|Nothing was written into output"
    r"|Conversion failed|Error while opening encoder|Could not open encoder before EOF"
    r"|Error sending frames to consumers|Error opening output file|Error opening output files"
    r"|Error parsing global options|Error selecting an encoder|Error reinitializing filters"
    r"|Device creation failed",
    re.IGNORECASE,
)


def summarize_stderr(stderr: str, returncode: int | None = None) -> str:
    """The most telling line of a failed ffmpeg's stderr, without ``[ctx @ 0x...]`` prefixes.

    ffmpeg's last lines are generic ("Conversion failed!", "Nothing was written..."), so this
    takes the first line that is not one of those; failing that the last line; failing that
    the exit code. Trailing full stops are dropped so reasons join cleanly.
    """
    lines = [_PREFIX.sub("", line).strip().rstrip(".") for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if not _GENERIC.search(line):
            return line
    if lines:
        return lines[-1]
    return f"ffmpeg exited with code {returncode}" if returncode is not None else "no output"


def trial_command(binary: FfmpegBinary, candidate: EncoderCandidate) -> list[str]:
    """The ffmpeg command line that tries ``candidate`` on a small test source."""
    return [
        binary.path,
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        *candidate.global_args,
        "-f",
        "lavfi",
        "-i",
        TRIAL_SOURCE,
        "-frames:v",
        str(TRIAL_FRAMES),
        *candidate.output_args(),
        "-f",
        "null",
        "-",
    ]


def run_trial(
    binary: FfmpegBinary, candidate: EncoderCandidate, timeout: float = TRIAL_TIMEOUT
) -> Trial:
    """Encode a few test frames with ``candidate``; never raises for an encoder that fails."""
    started = time.monotonic()
    try:
        result = subprocess.run(
            trial_command(binary, candidate),
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=child_environment(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = (exc.stderr or b"").decode("utf-8", "replace")
        detail = summarize_stderr(stderr) if stderr.strip() else "no answer"
        return Trial(
            candidate.encoder,
            "timeout",
            f"no result within {timeout:g} s ({detail})",
            time.monotonic() - started,
        )
    except OSError as exc:
        return Trial(candidate.encoder, "failed", f"cannot run ffmpeg: {exc}", 0.0)
    seconds = time.monotonic() - started
    if result.returncode == 0:
        return Trial(candidate.encoder, "ok", f"trial encode ok in {seconds:.2f} s", seconds)
    reason = summarize_stderr(result.stderr.decode("utf-8", "replace"), result.returncode)
    return Trial(candidate.encoder, "failed", reason, seconds)


_cache_lock = threading.Lock()
_cache: dict[tuple[str, str], EncoderChoice] = {}


def clear_encoder_cache() -> None:
    """Forget every cached detection (tests, or after changing drivers or the binary)."""
    with _cache_lock:
        _cache.clear()


def detect_encoder(
    binary: FfmpegBinary, preference: str = "auto", *, timeout: float = TRIAL_TIMEOUT
) -> EncoderChoice:
    """The H.264 encoder to use with ``binary``, found by trial encodes (cached).

    ``preference`` ``"auto"`` tries :data:`CANDIDATES` in order and falls back to libx264;
    any other value names one ffmpeg encoder, which alone is tried. Raises
    :class:`EncoderUnavailableError` when a named encoder is missing or fails its trial, and
    :class:`NoUsableEncoderError` when nothing works in auto mode. Runs in the calling thread
    (an actor's ``setup``); concurrent callers wait for one detection.
    """
    wanted = preference.strip() or "auto"
    if wanted.lower() == "auto":
        wanted = "auto"
    key = (binary.path, wanted)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        available = encoders(binary)
        choice = (
            _detect_auto(binary, available, timeout)
            if wanted == "auto"
            else _detect_configured(binary, wanted, available, timeout)
        )
        _cache[key] = choice
        return choice


def _detect_auto(binary: FfmpegBinary, available: frozenset[str], timeout: float) -> EncoderChoice:
    trials: list[Trial] = []
    for candidate in CANDIDATES:
        if candidate.encoder not in available:
            trials.append(Trial(candidate.encoder, "not_built", "not built into this ffmpeg"))
            continue
        trial = run_trial(binary, candidate, timeout)
        trials.append(trial)
        if trial.outcome == "ok":
            return EncoderChoice(candidate, trial.reason, tuple(trials))
    summary = "; ".join(trial.describe() for trial in trials)
    raise NoUsableEncoderError(
        f"no H.264 encoder works with {binary.path}: {summary}.",
        hint="Use an ffmpeg built with libx264 (the bundled imageio-ffmpeg binary has it).",
    )


def _detect_configured(
    binary: FfmpegBinary, wanted: str, available: frozenset[str], timeout: float
) -> EncoderChoice:
    candidate = _BY_NAME.get(wanted) or EncoderCandidate(wanted, not wanted.startswith("lib"), "")
    if wanted not in available:
        raise EncoderUnavailableError(
            f"the configured encoder {wanted!r} is not built into the ffmpeg at {binary.path}.",
            hint=ENCODER_HINT,
        )
    trial = run_trial(binary, candidate, timeout)
    if trial.outcome != "ok":
        raise EncoderUnavailableError(
            f"the configured encoder {wanted!r} does not work here: {trial.describe()}.",
            hint=ENCODER_HINT,
        )
    return EncoderChoice(candidate, trial.reason, (trial,), configured=True)
