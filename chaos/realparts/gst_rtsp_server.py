"""Simulated IP cameras: a GStreamer RTSP server serving live test patterns.

Run by the SYSTEM ``/usr/bin/python3`` (which has ``python3-gi``), never by the venv::

    /usr/bin/python3 gst_rtsp_server.py --port 0 --camera cam1:smpte:640x360:25 \\
        --camera cam2:ball:320x240:15

Each camera is served at ``rtsp://127.0.0.1:<port>/<name>``. When the server listens, one line
``READY <port>`` goes to stdout (``--port 0`` picks a free port; the line says which).

Field notes from DESIGN.md section 6 are followed exactly:

- ``x264enc threads=1`` (multi-slice keyframes arrive half broken in ffmpeg), ``tune=zerolatency
  speed-preset=ultrafast key-int-max=<fps>``;
- every client gets its OWN pipeline (``set_shared(False)``: the shared mode of gst-rtsp-server
  1.22 crashed about 1 run in 5 when several clients started at once);
- the source is live and late frames are DROPPED before the encoder, so a camera resumed after
  SIGSTOP comes back at the current time instead of replaying a burst of stale frames;
- clients pull over TCP only.

With ``VISTTER_TEST_RTSP_CREDENTIALS=user:password`` in its environment (never in argv, so
that tests can check no secret shows in any command line) every camera requires RTSP Basic
authentication with those credentials; a client without them gets 401.

The server quits on SIGTERM/SIGINT, and by itself when its parent process goes away, so a
crashed test run cannot leave it serving forever.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

READY_PREFIX = "READY"
EXIT_MISSING_COMPONENT = 3
EXIT_CANNOT_LISTEN = 4
CREDENTIALS_VARIABLE = "VISTTER_TEST_RTSP_CREDENTIALS"

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

#: element -> Debian package that provides it
REQUIRED_ELEMENTS = {
    "videotestsrc": "gstreamer1.0-plugins-base",
    "videoconvert": "gstreamer1.0-plugins-base",
    "x264enc": "gstreamer1.0-plugins-ugly",
    "rtph264pay": "gstreamer1.0-plugins-good",
}


@dataclass(frozen=True)
class CameraArg:
    """One ``--camera name:pattern:WxH:fps`` argument."""

    name: str
    pattern: str
    width: int
    height: int
    fps: int

    @classmethod
    def parse(cls, text: str) -> CameraArg:
        parts = text.split(":")
        if len(parts) != 4:
            raise argparse.ArgumentTypeError(
                f"camera {text!r} must be name:pattern:WxH:fps, e.g. cam1:smpte:640x360:25"
            )
        name, pattern, size, fps = parts
        size_match = re.fullmatch(r"(\d+)x(\d+)", size)
        if not _NAME.match(name) or not _NAME.match(pattern) or size_match is None:
            raise argparse.ArgumentTypeError(
                f"camera {text!r}: name and pattern are [A-Za-z0-9_-]+, size is WxH"
            )
        if not fps.isdigit() or int(fps) <= 0:
            raise argparse.ArgumentTypeError(f"camera {text!r}: fps must be a positive integer")
        return cls(name, pattern, int(size_match[1]), int(size_match[2]), int(fps))

    def launch(self) -> str:
        """The gst-launch description of this camera's media (one per client)."""
        return (
            f"( videotestsrc name=src is-live=true pattern={self.pattern} "
            f"! video/x-raw,width={self.width},height={self.height},"
            f"framerate={self.fps}/1,format=I420 "
            "! videoconvert "
            "! x264enc threads=1 tune=zerolatency speed-preset=ultrafast "
            f"key-int-max={self.fps} bitrate=1000 "
            "! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="RTSP port; 0 picks a free one")
    parser.add_argument(
        "--camera",
        type=CameraArg.parse,
        action="append",
        required=True,
        help="name:pattern:WxH:fps (pattern is a videotestsrc pattern nick: smpte, ball, red...)",
    )
    return parser.parse_args(argv)


def _import_gi() -> tuple[Any, Any, Any, Any]:
    """Return (Gst, GstRtsp, GstRtspServer, GLib) or exit with what to install."""
    try:
        gi = importlib.import_module("gi")
        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtsp", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        modules = [
            importlib.import_module(f"gi.repository.{name}")
            for name in ("Gst", "GstRtsp", "GstRtspServer", "GLib")
        ]
    except (ImportError, ValueError) as error:
        print(
            f"MISSING GStreamer RTSP server for Python ({error}); install python3-gi "
            "gir1.2-gst-rtsp-server-1.0 (run scripts/install-system-deps.sh)",
            flush=True,
        )
        raise SystemExit(EXIT_MISSING_COMPONENT) from error
    return modules[0], modules[1], modules[2], modules[3]


def _drop_late_frames(gst: Any, fps: int) -> Any:
    """A pad probe that drops buffers older than one frame behind the pipeline clock.

    Runs in the source's streaming thread; it only compares numbers and cannot raise.
    """
    frame_ns = 1_000_000_000 // fps

    def probe(pad: Any, info: Any) -> Any:
        buffer = info.get_buffer()
        element = pad.get_parent_element()
        clock = element.get_clock() if element is not None else None
        if buffer is None or clock is None or buffer.pts == gst.CLOCK_TIME_NONE:
            return gst.PadProbeReturn.OK
        running_time = clock.get_time() - element.get_base_time()
        if buffer.pts + 2 * frame_ns < running_time:
            return gst.PadProbeReturn.DROP
        return gst.PadProbeReturn.OK

    return probe


def _require_credentials(gst: Any, gst_rtsp_server: Any, server: Any, factory: Any) -> None:
    """Make ``factory`` need the user:password of :data:`CREDENTIALS_VARIABLE`, if set.

    The first call installs Basic authentication on ``server``; every call restricts the
    factory's media to the authenticated role. Runs in the main thread before serving.
    """
    credentials = os.environ.get(CREDENTIALS_VARIABLE, "")
    if not credentials:
        return
    user, _, password = credentials.partition(":")
    auth = server.get_auth()
    if auth is None:
        auth = gst_rtsp_server.RTSPAuth()
        token = gst_rtsp_server.RTSPToken()
        token.set_string(gst_rtsp_server.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
        auth.add_basic(gst_rtsp_server.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
    permissions = gst_rtsp_server.RTSPPermissions()
    permissions.add_role_from_structure(
        gst.Structure.new_from_string(
            "camera-user, media.factory.access=(boolean)true, "
            "media.factory.construct=(boolean)true"
        )
    )
    factory.set_permissions(permissions)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    names = [camera.name for camera in args.camera]
    if len(set(names)) != len(names):
        print(f"ERROR camera names must be unique, got {names}", flush=True)
        return 2
    gst, gst_rtsp, gst_rtsp_server, glib = _import_gi()
    gst.init(None)
    for element, package in REQUIRED_ELEMENTS.items():
        if gst.ElementFactory.find(element) is None:
            print(f"MISSING GStreamer element {element}; install {package}", flush=True)
            return EXIT_MISSING_COMPONENT

    server = gst_rtsp_server.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for camera in args.camera:
        factory = gst_rtsp_server.RTSPMediaFactory()
        factory.set_launch(camera.launch())
        factory.set_shared(False)
        factory.set_protocols(gst_rtsp.RTSPLowerTrans.TCP)
        _require_credentials(gst, gst_rtsp_server, server, factory)

        def on_media_configure(_factory: Any, media: Any, fps: int = camera.fps) -> None:
            source = media.get_element().get_by_name("src")
            source.get_static_pad("src").add_probe(
                gst.PadProbeType.BUFFER, _drop_late_frames(gst, fps)
            )

        factory.connect("media-configure", on_media_configure)
        mounts.add_factory(f"/{camera.name}", factory)

    try:
        source_id = server.attach(None)
    except glib.Error as error:
        print(f"ERROR cannot listen on 127.0.0.1:{args.port}: {error}", flush=True)
        return EXIT_CANNOT_LISTEN
    if not source_id:
        print(f"ERROR cannot listen on 127.0.0.1:{args.port}", flush=True)
        return EXIT_CANNOT_LISTEN

    loop = glib.MainLoop()
    parent = os.getppid()

    def quit_loop() -> bool:
        loop.quit()
        return False

    def parent_alive() -> bool:
        if os.getppid() != parent:
            loop.quit()
            return False
        return True

    for signal_number in (2, 15):  # SIGINT, SIGTERM
        glib.unix_signal_add(glib.PRIORITY_HIGH, signal_number, quit_loop)
    glib.timeout_add(500, parent_alive)
    print(f"{READY_PREFIX} {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
