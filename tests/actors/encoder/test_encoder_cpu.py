"""How much CPU the encoder actor costs over running its ffmpeg command alone.

A measurement, not a performance gate: the figures are printed (run with ``-s``) and
recorded as test properties. The assertions only check that both runs really encoded.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pykka
import pytest

from vistter.actors.encoder.command import encoder_command
from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.encoder.hwaccel import detect_encoder
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.media.ffmpeg import find_ffmpeg
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.settings import EncodingConfig
from vistter.supervisors.link import Link

FMT = FrameFormat(1280, 720, 30)
ENCODING = EncodingConfig(preset="veryfast")
SECONDS = 8.0


@pytest.fixture(autouse=True)
def stop_all_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def thread_cpu(native_ids: set[int]) -> float:
    """CPU seconds used so far by the threads of this process with these native ids."""
    return sum(
        t.user_time + t.system_time for t in psutil.Process().threads() if t.id in native_ids
    )


def encoder_thread_ids() -> set[int]:
    """Native ids of the encoder actor's own thread and of the threads it started."""
    return {
        t.native_id
        for t in threading.enumerate()
        if t.native_id is not None
        and (t.name.startswith("vistter-encoder-") or t.name.startswith("EncoderActor-"))
    }


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_measure_encoder_actor_cpu_against_plain_ffmpeg(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    binary = find_ffmpeg()
    choice = detect_encoder(binary, "libx264")
    frame = solid_frame(FMT, 120, 110, 150)

    # 1. The actor, fed in real time like the mixer does; the output is drained.
    frames = FrameQueue(4)
    pipe = TsPipe(64 * 1024 * 1024)
    ref = EncoderActor.start(Link("bench/encoder"), FMT, ENCODING, choice, binary, frames, pipe)
    pid = ref.proxy().status().get(timeout=5)["pid"]
    ffmpeg_process = psutil.Process(pid)
    drained = 0
    stop = threading.Event()

    def drain() -> None:
        nonlocal drained
        while not stop.is_set():
            chunk = pipe.get(0.1)
            if chunk is not None:
                drained += len(chunk.data)

    drainer = threading.Thread(target=drain, name="test-drain", daemon=True)
    drainer.start()
    ids = encoder_thread_ids()
    assert len(ids) == 5
    python_before = thread_cpu(ids)
    ffmpeg_before = cpu_seconds(ffmpeg_process)
    started = time.monotonic()
    count = int(SECONDS * FMT.fps)
    for index in range(count):
        frames.put(ProgramFrame(index, frame))
        time.sleep(max(0.0, started + (index + 1) / FMT.fps - time.monotonic()))
    actor_ffmpeg = cpu_seconds(ffmpeg_process) - ffmpeg_before
    actor_python = thread_cpu(ids) - python_before
    written = ref.proxy().status().get(timeout=5)["frames_written"]
    ref.stop(timeout=15)
    stop.set()
    drainer.join(5)

    # 2. The same command alone, reading the same frame from a file at real-time rate.
    raw = tmp_path / "frame.yuv"
    raw.write_bytes(frame.tobytes())
    argv = encoder_command(binary, FMT, ENCODING, choice).argv
    at = argv.index("pipe:0")
    argv[at - 1 : at + 1] = [
        "-stream_loop", "-1", "-readrate", "1", "-i", str(raw),
    ]
    argv[argv.index("-map") : argv.index("-map")] = ["-t", f"{SECONDS:g}"]
    alone = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ps_alone = psutil.Process(alone.pid)
        last = 0.0
        while alone.poll() is None:
            try:
                last = cpu_seconds(ps_alone)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.1)
        _, stderr = alone.communicate(timeout=30)
    finally:
        if alone.poll() is None:
            alone.kill()
            alone.wait()
    assert alone.returncode == 0, stderr.decode()
    plain_ffmpeg = last

    assert written >= count - 5
    assert drained > 1_000_000
    assert plain_ffmpeg > 0
    total = actor_ffmpeg + actor_python
    ratio = total / plain_ffmpeg
    figures = {
        "actor_ffmpeg_cpu_s": round(actor_ffmpeg, 2),
        "actor_python_threads_cpu_s": round(actor_python, 3),
        "plain_ffmpeg_cpu_s": round(plain_ffmpeg, 2),
        "ratio": round(ratio, 3),
    }
    for key, value in figures.items():
        record_property(key, value)
    print(f"\nencoder CPU over {SECONDS:g} s of {FMT.size}@{FMT.fps}: {figures}")
