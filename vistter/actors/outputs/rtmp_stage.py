"""How far an RTMP publish got before it failed: a refused stream key is not a network fault.

A server that refuses a stream key does so *after* the connection worked: the TCP connection,
the RTMP handshake, ``connect`` (the application) and ``createStream`` all succeed, then the
server answers ``publish`` with an error status (``NetStream.Publish.BadName``,
``Unauthorized``...) or simply closes the connection (nginx-rtmp when its ``on_publish`` hook
answers 4xx, Twitch, Facebook). A server that refuses the application closes the connection
(or answers ``_error``) right after ``connect``. A network fault ends the attempt before the
handshake, or later with a timeout.

libavformat tells how far it got only in its debug log (``Handshaking...``, ``Proto = ...``,
``Creating stream...``, ``Sending publish command for ...``, and ``Server error: ...`` for an
error status). :class:`RtmpProgress` is a :mod:`logging` handler that reads those lines
(PyAV hands them to the ``libav.*`` loggers) while the publisher connects, and
:meth:`RtmpProgress.refusal` says, once the connect failed, whether the server refused the
stream key, refused the application, or neither (a network failure).

The publisher's exit codes for the two refusals live here, so that the actor side can read
them without importing PyAV. Not thread-safe beyond :mod:`logging`'s own lock: one publisher,
one connect.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

__all__ = [
    "EXIT_APP_REFUSED",
    "EXIT_KEY_REFUSED",
    "Refusal",
    "RtmpProgress",
    "RtmpStage",
]

EXIT_KEY_REFUSED = 4
"""Publisher exit code: the server accepted the connection and refused the stream key."""
EXIT_APP_REFUSED = 5
"""Publisher exit code: the server accepted the handshake and refused the application."""


class RtmpStage(enum.IntEnum):
    """The furthest step of the RTMP publish that libavformat reported."""

    NOTHING = 0
    HANDSHAKE_DONE = 1  # the server speaks RTMP; ``connect`` goes out
    APP_ACCEPTED = 2  # ``connect`` answered: releaseStream / createStream go out
    PUBLISH_SENT = 3  # ``createStream`` answered: ``publish`` (the stream key) went out


# libavformat's rtmpproto.c debug lines (stable for over a decade), in the order they come
_STAGE_LINES = (
    ("Proto = ", RtmpStage.HANDSHAKE_DONE),
    ("Releasing stream", RtmpStage.APP_ACCEPTED),
    ("FCPublish stream", RtmpStage.APP_ACCEPTED),
    ("Creating stream", RtmpStage.APP_ACCEPTED),
    ("Sending publish command", RtmpStage.PUBLISH_SENT),
)
_SERVER_ERROR = "Server error:"


@dataclass(frozen=True)
class Refusal:
    """The server refused the publish: ``exit_code`` for the publisher, ``words`` for the
    operator (what was refused, and what the server said or did)."""

    exit_code: int
    words: str


class RtmpProgress(logging.Handler):
    """Follows libavformat's RTMP log lines (loggers ``libav.rtmp``, ``libav.rtmps``...).

    Attach it to the ``libav`` logger with the level low enough for libavformat's debug
    lines (PyAV logs them at level 5) while the publisher connects. ``emit`` runs in the
    thread that logs (the publisher's main thread, inside the connect); it never raises.
    """

    def __init__(self) -> None:
        super().__init__(level=1)
        self.stage = RtmpStage.NOTHING
        self.server_error = ""

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("libav.rtmp"):
            return
        line = record.getMessage().strip()
        if line.startswith(_SERVER_ERROR):
            self.server_error = line.removeprefix(_SERVER_ERROR).strip()
            return
        for prefix, stage in _STAGE_LINES:
            if line.startswith(prefix):
                self.stage = max(self.stage, stage)
                return

    def refusal(self, failure: str) -> Refusal | None:
        """What a connect that failed with ``failure`` (the error, already masked) was: a
        refusal by the server, or None for a failure of the network (or before RTMP)."""
        said = f"the server said: {self.server_error}" if self.server_error else ""
        if self.stage >= RtmpStage.PUBLISH_SENT:
            how = said or f"it ended the connection right after the publish command ({failure})"
            return Refusal(EXIT_KEY_REFUSED, f"the server rejected the stream key: {how}")
        if self.stage >= RtmpStage.HANDSHAKE_DONE and (
            self.server_error or self.stage is RtmpStage.HANDSHAKE_DONE
        ):
            how = said or f"it ended the connection right after connect ({failure})"
            return Refusal(
                EXIT_APP_REFUSED,
                f"the server refused the application in the URL (the part before the key): {how}",
            )
        return None
