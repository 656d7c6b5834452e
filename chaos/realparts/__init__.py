"""Real components for tests: nginx-rtmp ingest, an SRT listener, GStreamer RTSP cameras,
bounded ffmpeg.

Everything binds 127.0.0.1 on free ports, is bounded in time, is ended by PID, and fails the
test loudly (``pytest.fail`` saying what to install) when a component is missing; it never
skips. The system packages come from ``scripts/install-system-deps.sh``.
"""

from .nginx_rtmp import NginxRtmp
from .ports import free_port, port_accepts, wait_until_accepts
from .procs import FfmpegProcess, end_process, ffmpeg_exe, run_ffmpeg
from .rtsp_camera import RtspCameraServer, SimulatedCamera
from .srt_listener import SrtListener, free_udp_port

__all__ = [
    "FfmpegProcess",
    "NginxRtmp",
    "RtspCameraServer",
    "SimulatedCamera",
    "SrtListener",
    "end_process",
    "ffmpeg_exe",
    "free_port",
    "free_udp_port",
    "port_accepts",
    "run_ffmpeg",
    "wait_until_accepts",
]
