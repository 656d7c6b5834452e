"""Preview renders without HTTP: the bounds (files kept, jobs kept, size), the folder emptied
at start, a render that fails says why in the renderer's words, one past its time limit is
stopped with its process, the child's event lines, and closing with a render under way."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from PIL import Image

from vistter.models.config import ApplianceConfig, parse_config
from vistter.render.previews import (
    JobState,
    PreviewQueueFullError,
    PreviewRenders,
    PreviewSettings,
    PreviewStatus,
)
from vistter.render.previews.child import parse_event
from vistter.render.previews.jobs import PreviewJob, jobs_to_forget

W, H, FPS = 320, 180, 30


def config_for(tmp_path: Path) -> ApplianceConfig:
    assets = tmp_path / "assets"
    assets.mkdir(exist_ok=True)
    Image.new("RGB", (W, H), (40, 40, 40)).save(assets / "technical_difficulties.png")
    Image.new("RGB", (W, H), (200, 0, 0)).save(assets / "red.png")
    (assets / "broken.png").write_bytes(b"this is not a picture")
    return parse_config({
        "encoding": {"width": W, "height": H, "fps": FPS, "bitrate_kbps": 500},
        "paths": {"assets_dir": str(assets), "data_dir": str(tmp_path / "var")},
    }, base_dir=tmp_path, env={})


def document(picture: str, duration: float = 10) -> dict[str, Any]:
    return {"timeline": {"id": "p", "name": "p", "duration": duration, "tracks": {"video": {
        "track_id": "v", "cues": [{"id": "a", "start_time": 0, "duration": duration,
                                   "action": "show_media",
                                   "params": {"media_url": f"/assets/{picture}"}}]}}}}


def finished_job(folder: Path, job_id: str, finished_at: float, size: int) -> PreviewJob:
    job = PreviewJob(id=job_id, folder=folder / job_id, document={}, start_s=0, duration_s=1,
                     fps=FPS, width=W, height=H, created_at=0.0)
    job.finish(JobState.DONE, finished_at)
    job.video_bytes = size
    return job


def wait_until_finished(renders: PreviewRenders, job_id: str, timeout: float) -> PreviewStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = renders.status(job_id)
        if status.state not in (JobState.QUEUED, JobState.RENDERING):
            return status
        time.sleep(0.05)
    raise AssertionError(f"preview {job_id} still {renders.status(job_id).state}")


def test_finished_jobs_are_forgotten_by_age_then_oldest_first_by_bytes_and_count(
    tmp_path: Path,
) -> None:
    settings = PreviewSettings(keep_seconds=100, max_total_bytes=250, max_records=3)
    jobs = [finished_job(tmp_path, f"j{n}", finished_at=float(n), size=100) for n in range(3)]
    rendering = PreviewJob(id="live", folder=tmp_path, document={}, start_s=0, duration_s=1,
                           fps=FPS, width=W, height=H, created_at=0.0,
                           state=JobState.RENDERING)
    # 300 bytes kept, 250 allowed: the oldest goes; 4 jobs, 3 allowed: the same one suffices
    assert [j.id for j in jobs_to_forget([*jobs, rendering], 10.0, settings)] == ["j0"]
    # 100.5 s after j0 finished: j0 is too old whatever the bounds
    roomy = PreviewSettings(keep_seconds=100, max_total_bytes=10_000)
    assert [j.id for j in jobs_to_forget(jobs, 100.5, roomy)] == ["j0"]
    assert jobs_to_forget(jobs, 50.0, roomy) == []
    assert jobs_to_forget([rendering], 1e9, settings) == [], "a render under way is kept"


def test_the_size_keeps_the_programs_aspect_and_is_even() -> None:
    assert PreviewSettings().size_for(1280, 720) == (640, 360)
    assert PreviewSettings().size_for(1920, 1080) == (640, 360)
    assert PreviewSettings().size_for(640, 480) == (640, 480)
    assert PreviewSettings().size_for(320, 240) == (320, 240), "never wider than the program"
    assert PreviewSettings(width=480).size_for(1280, 720) == (480, 270)
    with pytest.raises(ValueError, match="even"):
        PreviewSettings(width=641)


def test_a_restart_finds_the_folder_empty(tmp_path: Path) -> None:
    folder = tmp_path / "previews"
    (folder / "0123" / "sub").mkdir(parents=True)
    (folder / "0123" / "video.mp4").write_bytes(b"old")
    (folder / "stray.partial").write_bytes(b"old")
    renders = PreviewRenders(config_for(tmp_path), folder)
    assert list(folder.iterdir()) == []
    renders.close()


def test_event_lines_are_read_and_anything_else_ignored() -> None:
    assert parse_event(b'{"frames": 3}\n') == {"frames": 3}
    assert parse_event(b'{"failed": "x", "hint": "y"}') == {"failed": "x", "hint": "y"}
    for line in (b"", b"[1]", b"\xff\xfe", b"frames 3", b"null"):
        assert parse_event(line) is None


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_render_that_fails_says_why_in_the_renderers_words(tmp_path: Path) -> None:
    # the priority is checked over HTTP; here it would only slow the test on a busy machine
    renders = PreviewRenders(config_for(tmp_path), tmp_path / "previews",
                             PreviewSettings(niceness=0))
    try:
        queued = renders.submit(document("broken.png"), 0, 1)
        status = wait_until_finished(renders, queued.id, 60)
        assert status.state is JobState.FAILED
        print(status.problem, "|", status.hint)
        assert "broken.png" in status.problem, status
        assert status.video is None and status.pid is None
        assert not (tmp_path / "previews" / queued.id).exists()
    finally:
        renders.close()


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_render_past_its_time_limit_is_stopped_and_closing_ends_the_next(
    tmp_path: Path,
) -> None:
    # the longest range (30 s, 900 frames) against 0.1 s: a 10 s range of a still at 320x180
    # once rendered within 0.5 s on an idle box, and a finished render is not a timeout
    settings = PreviewSettings(render_timeout=0.1, cancel_grace=2.0)
    renders = PreviewRenders(config_for(tmp_path), tmp_path / "previews", settings)
    try:
        queued = renders.submit(document("red.png", 30), 0, 30)
        status = wait_until_finished(renders, queued.id, 30)
        assert status.state is JobState.FAILED, status
        assert "longer than 0.1 s" in status.problem
    finally:
        renders.close()

    relaxed = PreviewRenders(config_for(tmp_path), tmp_path / "previews2")
    queued = relaxed.submit(document("red.png"), 0, 10)
    deadline = time.monotonic() + 30
    while (pid := relaxed.status(queued.id).pid) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pid is not None
    process = psutil.Process(pid)
    relaxed.close()
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert list((tmp_path / "previews2").iterdir()) == []
    with pytest.raises(PreviewQueueFullError, match="stopping"):
        relaxed.submit(document("red.png"), 0, 1)
