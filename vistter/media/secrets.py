"""Giving ffmpeg a secret without putting it in its command line.

``/proc/<pid>/cmdline`` (what ``ps`` shows) is readable by every local user, so a camera
URL with ``user:password@`` in an ffmpeg argv is a leaked password. The bundled ffmpeg
(imageio-ffmpeg, ffmpeg 9) was tested for ways to take a secret from elsewhere:

- ``-/opt FILE`` (read an option's value from a file) works only for ffmpeg's own options
  (``-/filter_complex``); for ``-/i`` and for protocol options such as ``-/rtmp_playpath``
  or ``-/passphrase`` it answers "Unrecognized option";
- ``-fpre FILE`` (an option preset file) accepts ``rtmp_playpath=...`` or ``format_opts=...``
  lines but they never reach the muxer or the protocol (the publish went out without key);
- the ``fd:N`` protocol refuses a descriptor number in the URL;
- the **concat demuxer reading an ffconcat list from** ``pipe:0`` works: the list names the
  URL (credentials inside) and its options (``option rtsp_transport 'tcp'``: the name bare,
  only the value quoted, or ffmpeg ignores the option), ffmpeg reads it
  from its stdin when it opens the input, and the pipe is gone after that. A live RTSP
  camera came through at its own frame rate (30 frames of a 15 fps camera in 2.3 s,
  startup included), exactly like a direct ``-i``.

So an input with a secret (a camera with a password) is given as :func:`concat_input`: the
argv says ``-f concat ... -i pipe:0`` and the :class:`SecretInput` goes to the process's
stdin (:meth:`vistter.supervisors.processes.ProcessSet.spawn` writes it into a pipe whose
write end is closed before ffmpeg starts; nothing is ever written to disk).

Outputs cannot use this with ffmpeg (its output URL is a positional argument and protocol
options are not read from files). So:

- **RTMP(S)** destinations are published by :mod:`vistter.actors.outputs.flv_publisher`, a
  small Python process that remuxes the program (stream copy, no decoding) with the
  libavformat bundled in PyAV (``av`` 18.1: libavformat 62, rtmp and rtmps through gnutls).
  Its argv is ``python -I -m vistter.actors.outputs.flv_publisher`` for every destination; the
  URL with the key arrives first on its stdin (:mod:`vistter.actors.outputs.publish_request`),
  then the MPEG-TS. Measured against ``ffmpeg -c copy -f flv`` on a 720p30 3.1 Mbit/s
  program into a local nginx-rtmp (30 s runs, a 2-core box at load average ~45): 0.50 CPU-s
  against 0.165 (about 3x, 1.7 % against 0.55 % of a core; 0.13 s of it is the interpreter
  and ``import av`` at start), the same bytes recorded by nginx (11,838,639 both), first byte
  at nginx after 1.3 to 2.2 s against 0.9 s (the import, slowed by the load). A refused key
  or a closed connection ends it with code 1 and one masked line on stderr; a write blocked
  for ``rw_timeout`` (PyAV opens outputs without options, so ffmpeg's ``-rw_timeout`` cannot
  be set) is ended by its watchdog with code 3.
- **SRT**: the passphrase **is still in its publisher's argv** (``ffmpeg ... -passphrase
  VALUE -f mpegts srt://...``), readable by every local user. PyAV's libavformat has no
  libsrt ("Protocol not found" for ``srt://``), ``-/passphrase`` is refused, and an ffconcat
  list only describes inputs. ``tests/app/test_secrets_proc.py`` pins that it is in that one
  command line and nowhere else; mount ``/proc`` with ``hidepid=2`` on a shared machine.

See the README ("Where secrets live").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vistter.supervisors.secret_input import SecretInput

__all__ = ["SecretInput", "concat_input", "ffconcat_quote"]

#: Protocols the concat demuxer may open for the camera behind the list.
_CAMERA_PROTOCOLS = (
    "pipe", "rtsp", "rtsps", "rtp", "srtp", "tcp", "udp", "tls", "http", "https",
    "httpproxy", "rtmp", "rtmps", "rtmpt", "ffrtmphttp", "crypto",
)  # fmt: skip


_OPTION_NAME = re.compile(r"[A-Za-z0-9_]+")


def ffconcat_quote(text: str) -> str:
    """``text`` as one ffconcat token: single-quoted, ``'`` written as ``'\\''``."""
    if "\n" in text or "\r" in text or "\0" in text:
        raise ValueError("an ffconcat value cannot contain line breaks or NUL")
    return "'" + text.replace("'", "'\\''") + "'"


def _option_name(name: str) -> str:
    """An ffconcat ``option`` directive's name, as is: ffmpeg reads it as a bare keyword
    (up to the next space), so a quoted name keeps its quotes and names no option; ffmpeg
    then ignores it without a word (measured: a camera's ``'timeout'`` and ``'fpsprobesize'``
    had no effect, ``timeout`` and ``fpsprobesize`` do)."""
    if not _OPTION_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not an ffmpeg option name (letters, digits, _)")
    return name


def concat_input(
    url: str, options: Sequence[tuple[str, str]] = ()
) -> tuple[list[str], SecretInput]:
    """The ffmpeg input args and the stdin that make ffmpeg open ``url`` with ``options``.

    ``url`` may hold credentials (``rtsp://user:pass@host/path``): it only goes into the
    returned :class:`SecretInput`. ``options`` are the input's own options (``("timeout",
    "5000000")``), applied when the concat demuxer opens the URL. Raises ``ValueError`` for
    a URL or option with a line break (which could inject ffconcat directives).
    """
    lines = ["ffconcat version 1.0", f"file {ffconcat_quote(url)}"]
    lines += [f"option {_option_name(name)} {ffconcat_quote(value)}" for name, value in options]
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    args = [
        "-f", "concat", "-safe", "0",
        "-protocol_whitelist", ",".join(_CAMERA_PROTOCOLS),
        "-i", "pipe:0",
    ]  # fmt: skip
    return args, SecretInput(payload)
