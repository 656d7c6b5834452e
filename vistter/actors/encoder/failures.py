"""Why an encode failed, in words an operator can act on.

The encoder actor raises these in its own thread when its ffmpeg exits or stalls; the
actor crashes and its supervisor restarts the encode (the fanout and the destinations go on,
see :mod:`vistter.tree`). Each report carries ffmpeg's own telling line (see
:func:`~vistter.actors.encoder.hwaccel.summarize_stderr`) and what to change if it repeats.
A dead worker thread of the encoder is reported as a
:class:`~vistter.supervisors.worker.WorkerDiedError` instead.
"""

from __future__ import annotations

from vistter.actors.encoder.hwaccel import summarize_stderr
from vistter.errors import VistterError

__all__ = ["EncoderFailedError", "encoder_exited", "encoder_stalled"]


class EncoderFailedError(VistterError):
    """The encoder's ffmpeg exited or stalled.

    Not an :class:`~vistter.errors.OperatorError`: raised in the actor, it crashes it, so
    the supervisor restarts the encode.
    """


def encoder_stalled(pid: int | None, what: str, stderr_tail: str) -> EncoderFailedError:
    """The encoder ffmpeg ``pid`` is alive but ``what`` (stopped taking frames, writes
    nothing); ``stderr_tail`` is its last log lines."""
    said = f" (ffmpeg said: {summarize_stderr(stderr_tail)})" if stderr_tail else ""
    return EncoderFailedError(
        f"the encoder ffmpeg (pid {_pid(pid)}) {what}{said}.",
        hint="It is restarted. If this repeats, check the [encoding] settings (a hardware "
        "encoder that does not work here: set encoder = \"libx264\") or use a faster "
        "preset or a lower resolution.",
    )


def encoder_exited(
    pid: int | None, code: int | None, where: str, stderr_tail: str
) -> EncoderFailedError:
    """The encoder ffmpeg ``pid`` exited with ``code`` while on air (noticed ``where``:
    its output ended, its stdin closed)."""
    return EncoderFailedError(
        f"the encoder ffmpeg (pid {_pid(pid)}) exited with code {code} while on air "
        f"({where}): {summarize_stderr(stderr_tail, code)}.",
        hint="The supervisor restarts it. If it keeps failing, check the [encoding] "
        "settings and the ffmpeg lines in the log.",
    )


def _pid(pid: int | None) -> str:
    return "?" if pid is None else str(pid)
