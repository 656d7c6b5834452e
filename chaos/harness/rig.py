"""The rig: every real part a scenario needs, on 127.0.0.1 with free ports.

- one GStreamer RTSP camera server PROCESS per camera (so one can be killed or stalled alone),
  each a solid, distinct colour, so what is on air can be read back from the pixels:
  camera 1 red (on air), camera 2 blue (its backup), camera 3 green (never on air);
- nginx-rtmp recording every publish session (:class:`~chaos.harness.ingest.RecordingIngest`),
  with a :class:`chaos.proxy.FaultProxy` in front of it per RTMP destination: ``a`` is the
  destination scenarios hurt, ``b`` the healthy one;
- an SRT listener (``chaos.realparts.SrtListener``) for destination ``srt`` (UDP: no TCP fault
  proxy can sit in front of it, so it is always a healthy destination);
- optionally a destination ``k`` whose key the server rejects, and a recorder;
- Vistter itself, ``vistter run --config rig.toml`` with a temporary data directory, going
  live at once on a one-cue timeline (camera 1, backup camera 2, slate when all are down).

Everything is ended by PID in reverse order by :meth:`Rig.close`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.harness.appliance import VistterProcess
from chaos.harness.ingest import RecordingIngest
from chaos.proxy import FaultProxy
from chaos.realparts import RtspCameraServer, SimulatedCamera, SrtListener, free_port

__all__ = ["CAMERA_COLOURS", "FPS", "REJECTED_KEY", "Rig", "RigOptions"]

REPO = Path(__file__).resolve().parents[2]
FPS = 30
PORT_ATTEMPTS = 3
"""Tries at starting Vistter when a port picked free was taken before it bound it."""
WIDTH, HEIGHT = 640, 360
BITRATE_KBPS = 800
#: camera id -> (videotestsrc pattern, label used in reports)
CAMERA_COLOURS: dict[int, str] = {1: "red", 2: "blue", 3: "green"}
REJECTED_KEY = "wrong-key"
SLATE_ASSET = REPO / "assets" / "technical_difficulties.png"


@dataclass
class RigOptions:
    """What one scenario's rig holds beyond the default (3 cameras, a, b, srt)."""

    srt: bool = True
    rejected_key_destination: bool = False
    recorder_dir: Path | None = None
    vistter_env: Mapping[str, str] = field(default_factory=dict)
    #: the video track's cues (default: camera 1 for the whole hour)
    video_cues: list[dict[str, Any]] | None = None
    #: more TOML lines for Vistter's configuration (e.g. a [degraded] section)
    extra_config: tuple[str, ...] = ()


class Rig:
    """Start with :meth:`start`, end with :meth:`close` (also on errors: use ``with``)."""

    def __init__(self, workdir: Path, options: RigOptions | None = None) -> None:
        self.workdir = workdir.resolve()
        self.options = options or RigOptions()
        self.cameras: dict[int, RtspCameraServer] = {}
        self.ingest = RecordingIngest(self.workdir / "nginx", rejected_keys=[REJECTED_KEY])
        self.proxies: dict[str, FaultProxy] = {}
        self.srt: SrtListener | None = None
        self.vistter: VistterProcess | None = None
        self.api_port = free_port()
        self.telemetry_port = free_port()

    @property
    def telemetry_endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.telemetry_port}"

    @property
    def rtmp_destinations(self) -> list[str]:
        return ["a", "b"]

    @property
    def healthy_destinations(self) -> list[str]:
        """Destinations no scenario touches (their frames must all arrive)."""
        return ["b", *(["srt"] if self.srt is not None else [])]

    @property
    def app(self) -> VistterProcess:
        if self.vistter is None:
            raise RuntimeError("the rig is not started")
        return self.vistter

    def start(self) -> None:
        """Start every part, then Vistter; raises when one does not come up."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for camera_id, colour in CAMERA_COLOURS.items():
            server = RtspCameraServer([SimulatedCamera(f"cam{camera_id}", colour, 320, 240, 15)])
            server.start()
            self.cameras[camera_id] = server
        self.ingest.start()
        for key in self.rtmp_destinations:
            proxy = FaultProxy("127.0.0.1", self.ingest.rtmp_port)
            proxy.start()
            self.proxies[key] = proxy
        if self.options.srt:
            srt_dir = self.workdir / "srt"
            srt_dir.mkdir(exist_ok=True)
            self.srt = SrtListener(srt_dir).start()
        config = self.workdir / "rig.toml"
        for attempt in range(1, PORT_ATTEMPTS + 1):
            # Ports are picked free just before Vistter binds them; another process on the
            # box may still take one in between: then Vistter says so, and new ports are tried.
            self.api_port, self.telemetry_port = free_port(), free_port()
            config.write_text(self._config_toml())
            self.vistter = VistterProcess(
                config, self.api_port, self.workdir / "vistter.log", self.options.vistter_env
            )
            try:
                self.vistter.start()
                return
            except RuntimeError as exc:
                if "already in use" not in str(exc) or attempt == PORT_ATTEMPTS:
                    raise

    def close(self) -> None:
        """End Vistter, then every part, by PID; safe after a failed start."""
        if self.vistter is not None:
            self.vistter.stop()
        if self.srt is not None:
            self.srt.stop()
        for proxy in self.proxies.values():
            proxy.close()
        self.ingest.stop()
        for server in self.cameras.values():
            server.stop()

    def __enter__(self) -> Rig:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def camera_url(self, camera_id: int) -> str:
        return self.cameras[camera_id].url(f"cam{camera_id}")

    def srt_recordings(self) -> list[Path]:
        if self.srt is None:
            return []
        return [self.srt.recording(n) for n in range(1, self.srt.starts + 1)]

    # -- configuration -----------------------------------------------------------------

    def _timeline(self) -> Path:
        timeline = {"timeline": {
            "id": "chaos", "name": "Chaos rig", "duration": 3600, "fps": FPS,
            "resolution": f"{WIDTH}x{HEIGHT}",
            "tracks": {
                "video": {"track_id": "video_main", "type": "video", "cues": (
                    self.options.video_cues or [{
                        "id": "cue_v1", "start_time": 0, "duration": 3600,
                        "action": "show_camera", "params": {"camera_id": 1, "transition": "cut"},
                    }]
                )},
                "overlays": [],
            },
            "fallback": {"test_pattern": "/assets/technical_difficulties.png",
                         "backup_camera_id": 2},
        }}  # fmt: skip
        path = self.workdir / "chaos.timeline.json"
        path.write_text(json.dumps(timeline, indent=1))
        return path

    def _config_toml(self) -> str:
        lines = [
            "[encoding]", 'profile = "reliability"', f"bitrate_kbps = {BITRATE_KBPS}",
            'preset = "ultrafast"', f"width = {WIDTH}", f"height = {HEIGHT}", f"fps = {FPS}",
        ]  # fmt: skip
        for camera_id, colour in CAMERA_COLOURS.items():
            lines += ["", "[[cameras]]", f"id = {camera_id}", f'name = "{colour} camera"',
                      f'url = "{self.camera_url(camera_id)}"']  # fmt: skip
            if camera_id == 1:
                lines.append("backup_camera_id = 2")
        for key, proxy in self.proxies.items():
            lines += self._rtmp(key, f"rtmp://127.0.0.1:{proxy.port}/live", key)
        if self.options.rejected_key_destination:
            lines += self._rtmp("k", self.ingest.url(), REJECTED_KEY)
        if self.srt is not None:
            lines += ["", "[[destinations]]", 'id = "srt"', 'platform = "srt"',
                      f'url = "{self.srt.url}"']  # fmt: skip
        if self.options.recorder_dir is not None:
            lines += ["", "[[destinations]]", 'id = "rec"', 'platform = "recorder"',
                      f'path = "{self.options.recorder_dir}"', "segment_seconds = 10"]  # fmt: skip
        data_dir = self.workdir / "var"
        data_dir.mkdir(exist_ok=True)
        lines += [
            "", "[api]", 'host = "127.0.0.1"', f"port = {self.api_port}",
            "", "[telemetry]", f'endpoint = "{self.telemetry_endpoint}"', "system_interval = 1",
            "", "[paths]", f'assets_dir = "{REPO / "assets"}"', f'data_dir = "{data_dir}"',
            "", "[show]", f'timeline = "{self._timeline()}"', "autostart = true", "loop = true",
            "always_on_air = true",
        ]  # fmt: skip
        lines += ["", *self.options.extra_config] if self.options.extra_config else []
        return "\n".join(lines) + "\n"

    @staticmethod
    def _rtmp(destination_id: str, url: str, key: str) -> list[str]:
        return ["", "[[destinations]]", f'id = "{destination_id}"', 'platform = "custom_rtmp"',
                f'url = "{url}"', f'stream_key = "{key}"']  # fmt: skip
