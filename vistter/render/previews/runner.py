"""Preview renders in the background: a small queue, one render at a time, at low priority.

:class:`PreviewRenders` takes a timeline document and a range (:meth:`submit`), and renders
it in a child process (:mod:`vistter.render.previews.child`, which runs the same
``render_timeline`` as ``vistter render``) at a modest size, reniced to 19. Progress is the
render's own: the child reports every frame it has written. The bounds
(:class:`~vistter.render.previews.jobs.PreviewSettings`) are there so that the live show never
suffers: at most ``max_pending`` jobs queued or rendering (more: :class:`PreviewQueueFullError`),
a render stopped after ``render_timeout`` s, finished jobs and their files forgotten after
``keep_seconds`` or when the files kept pass ``max_total_bytes`` (oldest first).

Files live in ``folder/<job id>/`` (the document, the MP4). The folder is emptied when the
runner is made (a restarted appliance knows no old job) and when it is closed.

Threads: :meth:`submit`, :meth:`status`, :meth:`remove` and :meth:`close` run in any thread
(the API's worker pool); one worker thread (``vistter-previews``, started with the first
job) runs the renders. The worker catches every error of a render and turns it into the
job's ``failed`` state, so a bad render never stops the next one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil

from vistter.media.stderr_tail import StderrTail, scrub_url_credentials
from vistter.models.config import ApplianceConfig
from vistter.models.config_source import ConfigSource, config_now
from vistter.models.timeline import TimelineDocument
from vistter.models.validation import load_timeline
from vistter.render.previews.child import RenderOrder, parse_event
from vistter.render.previews.jobs import (
    ACTIVE_STATES,
    JobState,
    PreviewJob,
    PreviewNotFoundError,
    PreviewQueueFullError,
    PreviewRangeError,
    PreviewSettings,
    PreviewStatus,
    jobs_to_forget,
)
from vistter.supervisors.processes import ProcessSet

__all__ = ["PreviewRenders"]

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0
_EPSILON = 1e-6


def _gone(processes: list[psutil.Process], timeout: float) -> bool:
    """Wait up to ``timeout`` s for every process to exit (a zombie counts: it has), without
    reaping any. True when all have."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
        if not alive:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _clock_text(seconds: float) -> str:
    whole = int(seconds)
    rest = seconds - whole
    text = f"{whole // 60}:{whole % 60:02d}"
    return text + f"{rest:.2f}"[1:] if rest > 0.005 else text


class PreviewRenders:
    """The preview job queue and its worker (see module doc)."""

    def __init__(
        self,
        config: ConfigSource,
        folder: Path,
        settings: PreviewSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        python: str = sys.executable,
    ) -> None:
        self._config = config  # read at each use: the cameras change while live
        self._folder = folder
        self._settings = settings or PreviewSettings()
        self._clock = clock
        self._python = python
        self._processes = ProcessSet()
        self._jobs: dict[str, PreviewJob] = {}
        self._handles: dict[str, psutil.Process] = {}  # job id -> its render process
        self._lock = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._empty_folder()

    @property
    def settings(self) -> PreviewSettings:
        return self._settings

    # -- any thread ----------------------------------------------------------------------

    def submit(self, data: object, start_s: float, duration_s: float) -> PreviewStatus:
        """Queue a preview of ``duration_s`` seconds of the timeline document ``data`` from
        ``start_s``. Raises :class:`~vistter.models.validation.TimelineInvalid` (every
        problem), :class:`PreviewRangeError` and :class:`PreviewQueueFullError`."""
        config = config_now(self._config)
        document = load_timeline(data, config)
        fps = config.encoding.fps
        self._check_range(document, start_s, duration_s, fps)
        width, height = self._settings.size_for(config.encoding.width, config.encoding.height)
        with self._lock:
            self._sweep()
            if self._closed:
                raise PreviewQueueFullError("previews are not taken now: the appliance is "
                                            "stopping.", hint="Try again once it is running.")
            active = [job for job in self._jobs.values() if job.state in ACTIVE_STATES]
            if len(active) >= self._settings.max_pending:
                raise PreviewQueueFullError(
                    f"{len(active)} previews are already queued or rendering (at most "
                    f"{self._settings.max_pending}).",
                    hint="Wait for one to finish, or cancel one (DELETE its status_url).",
                )
            job_id = uuid.uuid4().hex
            job = PreviewJob(
                id=job_id, folder=self._folder / job_id, document=data,
                start_s=float(start_s), duration_s=float(duration_s), fps=fps, width=width,
                height=height, created_at=self._clock(),
            )
            self._jobs[job_id] = job
            self._start_worker()
            self._lock.notify_all()
            logger.info("preview %s queued: %s from %s at %dx%d", job_id,
                        _clock_text(duration_s), _clock_text(start_s), width, height)
            return job.status(self._clock())

    def status(self, job_id: str) -> PreviewStatus:
        """The job's state now; :class:`PreviewNotFoundError` for an unknown or expired id."""
        with self._lock:
            self._sweep()
            return self._job(job_id).status(self._clock())

    def remove(self, job_id: str) -> PreviewStatus:
        """Cancel a queued or rendering job (its process is ended by PID), or forget a
        finished one; either way its files are deleted and the job is forgotten (a later
        GET answers 404), and the answer is its last status. Blocks up to ``cancel_grace``
        seconds (plus the kill) while a render process ends."""
        with self._lock:
            job = self._job(job_id)
            if job.state not in ACTIVE_STATES:
                del self._jobs[job_id]
                self._delete_files(job)
                return job.status(self._clock())
            job.cancel_requested = True
            if job.state is JobState.QUEUED:
                job.finish(JobState.CANCELLED, self._clock(), problem="cancelled before it "
                           "started.")
                del self._jobs[job_id]
                self._delete_files(job)
                return job.status(self._clock())
            handle = self._handles.get(job.id)
        if handle is not None:
            self._stop_process(handle)
        with self._lock:  # the worker marks it cancelled once the process is gone
            self._lock.wait_for(lambda: job.state not in ACTIVE_STATES,
                                timeout=self._settings.cancel_grace + 5)
            if job.state not in ACTIVE_STATES:
                self._jobs.pop(job_id, None)
                self._delete_files(job)
            return job.status(self._clock())

    def close(self) -> None:
        """Cancel every job, stop the worker and empty the folder. Idempotent."""
        with self._lock:
            self._closed = True
            handles = list(self._handles.values())
            for job in self._jobs.values():
                job.cancel_requested = True
            self._lock.notify_all()
            worker = self._worker
        for handle in handles:
            self._stop_process(handle)
        if worker is not None:
            worker.join(self._settings.cancel_grace + 10)
        self._processes.end_all(grace=1.0)
        self._empty_folder()

    # -- internals (under the lock unless said) -------------------------------------------

    def _check_range(self, document: TimelineDocument, start_s: float, duration_s: float,
                     fps: int) -> None:
        length = document.timeline.duration
        end = start_s + duration_s
        if end > length + _EPSILON:
            raise PreviewRangeError(
                f"the range {_clock_text(start_s)} to {_clock_text(end)} ends after the "
                f"timeline, which is {_clock_text(length)} ({length:g} s) long.",
                hint=f"Choose a range that ends by {_clock_text(length)}.",
            )
        if duration_s > self._settings.max_duration + _EPSILON:
            raise PreviewRangeError(
                f"a preview is at most {self._settings.max_duration:g} s long; "
                f"{duration_s:g} s was asked for.", hint="Choose a shorter range.")
        if round(duration_s * fps) < 1:
            raise PreviewRangeError(
                f"{duration_s:g} s is less than one frame at {fps} fps.",
                hint="Choose a range of at least one frame.")

    def _job(self, job_id: str) -> PreviewJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise PreviewNotFoundError(
                f"there is no preview {job_id[:40]!r}: it never existed, was removed, or "
                f"expired ({self._settings.keep_seconds / 60:g} minutes after it finished).",
                hint="Ask for a new preview (POST /api/render-previews).",
            )
        return job

    def _sweep(self) -> None:
        """Forget the finished jobs :func:`jobs_to_forget` picks, and delete their files."""
        for job in jobs_to_forget(list(self._jobs.values()), self._clock(), self._settings):
            del self._jobs[job.id]
            self._delete_files(job)

    def _start_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="vistter-previews",
                                            daemon=True)
            self._worker.start()

    def _work(self) -> None:
        """The worker thread: the oldest queued job, rendered; the sweep between jobs."""
        while True:
            with self._lock:
                job = self._next_job()
                while job is None and not self._closed:
                    self._lock.wait(SWEEP_SECONDS)
                    self._sweep()
                    job = self._next_job()
                if job is None:
                    return
                job.state, job.started_at = JobState.RENDERING, self._clock()
            try:
                self._render(job)
            except Exception as error:  # a bug in this module: the job fails, the worker lives
                logger.exception("preview %s: the render could not be run", job.id)
                self._finished(job, JobState.FAILED, problem=f"the preview could not be "
                               f"rendered: {type(error).__name__}.",
                               hint="See the appliance log.")

    def _next_job(self) -> PreviewJob | None:
        if self._closed:
            return None
        return next((job for job in self._jobs.values() if job.state is JobState.QUEUED), None)

    def _render(self, job: PreviewJob) -> None:
        """Worker thread: run the child, read its progress, record the outcome."""
        job.folder.mkdir(parents=True, exist_ok=True)
        timeline = job.folder / "timeline.json"
        timeline.write_text(json.dumps(job.document), encoding="utf-8")
        order = RenderOrder(config=self._preview_config(job), timeline=timeline, out=job.video,
                            timeline_start=job.start_s, duration=job.duration_s,
                            niceness=self._settings.niceness)
        process = self._processes.spawn(
            "preview render", [self._python, "-m", "vistter.render.previews"],
            args_for_log=f"vistter preview render {job.id} {job.width}x{job.height}",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert process.popen.stdin is not None and process.popen.stdout is not None
        assert process.popen.stderr is not None
        tail = StderrTail(process.popen.stderr, name="vistter-preview-stderr",
                          redact=scrub_url_credentials)
        with self._lock:
            job.pid = process.pid
            # psutil checks the PID was not reused before each signal it sends
            handle = self._handles[job.id] = psutil.Process(process.pid)
            cancelled = job.cancel_requested
        if cancelled:  # removed between the pick and the spawn
            self._stop_process(handle)
        timed_out = threading.Event()

        def time_out() -> None:  # the timer's thread
            timed_out.set()
            self._stop_process(handle)

        timer = threading.Timer(self._settings.render_timeout, time_out)
        timer.daemon = True
        timer.start()
        outcome: dict[str, object] = {}
        try:
            with contextlib.suppress(BrokenPipeError, OSError):
                process.popen.stdin.write(pickle.dumps(order))
                process.popen.stdin.close()
            for line in process.popen.stdout:
                event = parse_event(line)
                if event is None:
                    continue
                if isinstance(frames := event.get("frames"), int):
                    with self._lock:
                        job.frames_done = frames
                else:
                    outcome = event
        finally:
            timer.cancel()
            code = self._processes.end(process, grace=self._settings.cancel_grace)
            with self._lock:
                self._handles.pop(job.id, None)
            tail.join(2.0)
        self._record(job, outcome, code, tail.last_line(), timed_out=timed_out.is_set())

    def _record(self, job: PreviewJob, outcome: dict[str, object], code: int | None,
                last_line: str, *, timed_out: bool) -> None:
        if job.cancel_requested:
            self._finished(job, JobState.CANCELLED, problem="cancelled while rendering.")
        elif "done" in outcome and code == 0 and job.video.is_file():
            size = job.video.stat().st_size
            with self._lock:
                job.video_bytes = size
            self._finished(job, JobState.DONE)
        elif isinstance(problem := outcome.get("failed"), str):
            self._finished(job, JobState.FAILED, problem=problem, hint=str(outcome.get("hint")
                                                                         or ""))
        elif timed_out:
            self._finished(job, JobState.FAILED, problem="the preview took longer than "
                           f"{self._settings.render_timeout:g} s and was stopped.",
                           hint="The machine is busy; try a shorter range later.")
        else:
            detail = f" ({last_line})" if last_line else ""
            self._finished(job, JobState.FAILED, problem="the preview render process ended "
                           f"with exit code {code}{detail}.", hint="See the appliance log.")

    def _finished(self, job: PreviewJob, state: JobState, *, problem: str = "",
                  hint: str = "") -> None:
        with self._lock:
            job.finish(state, self._clock(), problem=problem, hint=hint)
            if state is not JobState.DONE:
                self._delete_files(job)
            self._sweep()
            self._lock.notify_all()
        status = job.status(self._clock())
        logger.info("preview %s %s: %d/%d frames in %.1f s%s", job.id, state.value,
                    status.frames_done, status.frames_total, status.elapsed_s,
                    f" ({problem})" if problem else "")

    def _preview_config(self, job: PreviewJob) -> ApplianceConfig:
        """The appliance configuration at the preview's size (everything else as live)."""
        config = config_now(self._config)
        encoding = config.encoding.model_copy(update={"width": job.width, "height": job.height})
        return config.model_copy(update={"encoding": encoding})

    def _stop_process(self, process: psutil.Process) -> None:
        """Any thread: SIGTERM the render process (it ends its own ffmpegs), and after
        ``cancel_grace`` kill it and every process under it, each by its PID. The render
        process itself is not reaped here: the worker does that (:meth:`ProcessSet.end`)."""
        try:
            family = [process, *process.children(recursive=True)]
            process.terminate()
        except psutil.NoSuchProcess:
            return
        if not _gone([process], self._settings.cancel_grace):
            logger.warning("preview render (pid %d) ignored SIGTERM; killing it and its "
                           "ffmpegs", process.pid)
        for member in family:
            if not _gone([member], 0.0):
                with contextlib.suppress(psutil.NoSuchProcess):
                    member.kill()
        _gone(family, 2.0)

    def _delete_files(self, job: PreviewJob) -> None:
        shutil.rmtree(job.folder, ignore_errors=True)

    def _empty_folder(self) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        for entry in self._folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
