"""The emergency slate pressed on the page, measured on nginx's recording by the program clock.

One :func:`slate_on_the_recording` presses "Emergency slate", keeps it two seconds of program,
presses "Release slate" and reads nginx's recording. The program frames come from the show
status: the slate took effect on ``overrides.slate_frame`` (in the click's own answer), the
camera forced beforehand came back on ``take_frame`` (once it is back). The recording keeps
the program's timestamps (the encoder numbers the frames it writes by program index), so the
cut back, a frame of known index, places the click's frame in it; the slate's first recorded
frame is then ``delay`` seconds of program after the click.

A program frame can reach the encoder as a stand-in, the frame before it again: the mixer's
catch-up repeats and the frames its queue dropped on a loaded machine (counted by the mixer).
A stand-in can only make an edge appear later. Later at the slate's start is what a viewer
sees, and counts against the slate; later at the cut back would hide a late slate, so every
frame lost around the release is added back, and where frames are missing from the recording
before the cut back (lost on the way to nginx) the earliest it could be is taken: ``bound`` is
never less than the true delay. Runs in the test's thread; fails the test with what was seen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect
from support.demo_appliance import DemoAppliance
from support.recording_runs import Run, runs_of, slate_like

__all__ = ["DELIVERY_BOUND", "SlateOnRecording", "slate_on_the_recording"]

DELIVERY_BOUND = 20.0
"""Seconds (wall clock) nginx's recording may take to hold the cut back after the release: a
loose bound on the delivery (encoder, fanout, publisher, nginx), not the slate's timing."""
QUEUED = 4
"""Frames the mixer's queue to the encoder holds (``FrameQueue``'s capacity)."""
FORCED = 2
"""The camera forced before the slate: releasing the slate cuts back to it (a timeline cue may
come back with a transition). Its bars are grey and white where the slate is navy."""


@dataclass
class SlateOnRecording:
    """One press and release of the slate, as the program and the recording saw it."""

    fps: int
    slate_frame: int
    cut_back: int
    armed_after: float
    """Seconds (wall clock) from the click to its answer: the slate armed."""
    run: Run | None = None
    runs: list[Run] = field(default_factory=list)
    decoded: int = 0
    delivered: float = 0.0
    """Seconds (wall clock) from the release to the cut back found in the recording."""
    lost_at_start: int = 0
    lost_at_cut: int = 0

    @property
    def delay(self) -> float:
        """Seconds of program from the click's frame to the first recorded slate frame."""
        assert self.run is not None and self.run.end is not None
        return self.run.start - (self.run.end - (self.cut_back - self.slate_frame) / self.fps)

    @property
    def bound(self) -> float:
        """``delay`` from the earliest the cut back can be in the recording, with every frame
        lost around the release put back: an upper bound of the true delay."""
        assert self.run is not None and self.run.end is not None
        earliest = min(self.run.end, self.run.last + 1 / self.fps)
        return self.delay + (self.run.end - earliest) + self.lost_at_cut / self.fps

    def line(self) -> str:
        found = (f"on nginx's recording {self.delay * 1e3:.0f} ms of program after the click's "
                 f"frame {self.slate_frame} (at most {self.bound * 1e3:.0f} ms)"
                 if self.run is not None else "not on nginx's recording")
        return (f"emergency slate: armed {self.armed_after * 1e3:.0f} ms after the click; "
                f"{found}; the cut back at frame {self.cut_back}, on nginx "
                f"{self.delivered:.1f} s after the release; program frames lost (stand-ins) "
                f"around the click {self.lost_at_start}, around the release {self.lost_at_cut}")


def frames_lost(studio: DemoAppliance) -> int:
    """Program frames that reached the encoder as a stand-in so far: the mixer's catch-up
    repeats and the frames its queue dropped."""
    mixer = studio.get("/api/status")["program"]["mixer"]
    return int(mixer["repeated"]) + int(mixer["queue_dropped"])


def _press(page: Page, studio: DemoAppliance, fps: int) -> SlateOnRecording:
    """Click the slate on the page: its answer and the program frame it took effect on."""
    lost = frames_lost(studio)
    clicked = time.monotonic()
    with page.expect_response(lambda r: r.url.endswith("/api/show/overrides/slate")) as sent:
        page.get_by_role("button", name="Emergency slate", exact=True).click()
    answer = sent.value.json()
    armed_after = time.monotonic() - clicked
    slate_frame = answer["overrides"]["slate_frame"]
    assert isinstance(slate_frame, int), answer["overrides"]
    assert slate_frame <= answer["program_frame"] + 1, answer  # armed for the next frame
    studio.wait_until("the slate on air in the program",
                      lambda: studio.get("/api/status")["on_air"]["source"] == "slate", 5)
    expect(page.get_by_test_id("override-slate-state")).to_have_text("ACTIVE")
    expect(page.get_by_test_id("on-air")).to_have_text("Slate")
    show = studio.get("/api/show")
    assert (show["overrides"]["slate_frame"], show["take_frame"]) == (slate_frame, slate_frame)
    studio.wait_until("a second of program with the slate", lambda: (
        studio.get("/api/show")["program_frame"] >= slate_frame + fps), 30)
    return SlateOnRecording(fps, slate_frame, 0, armed_after,
                            lost_at_start=frames_lost(studio) - lost)


def _release(page: Page, studio: DemoAppliance, measure: SlateOnRecording) -> None:
    """Two seconds of slate on the program clock, then "Release slate": the cut back's frame,
    and the frames lost from just before the release to just after the cut back."""
    fps, slate_frame = measure.fps, measure.slate_frame
    studio.wait_until("2 s of program with the slate", lambda: (
        studio.get("/api/show")["program_frame"] >= slate_frame + 2 * fps), 30)
    lost = frames_lost(studio)
    with page.expect_response(
            lambda r: r.url.endswith("/api/show/overrides/release-slate")) as sent:
        page.get_by_role("button", name="Release slate").click()
    released = sent.value.json()
    assert released["overrides"]["slate_frame"] is None, released["overrides"]
    expect(page.get_by_test_id("override-slate-state")).to_have_text("off")
    back = studio.wait_until(f"camera {FORCED} back on air", lambda: (
        (show := studio.get("/api/show"))["scheduled_source"] == f"camera:{FORCED}" and show), 10)
    measure.cut_back = back["take_frame"]  # the first frame of the camera after the slate
    assert slate_frame + 2 * fps < measure.cut_back <= released["program_frame"] + 1, back
    # a frame the queue drops is counted when the fourth after it comes: read just past that
    studio.wait_until("the frames after the cut back made", lambda: (
        studio.get("/api/show")["program_frame"] >= measure.cut_back + QUEUED + 1), 30)
    measure.lost_at_cut = frames_lost(studio) - lost


def slate_on_the_recording(page: Page, studio: DemoAppliance, recording: Path,
                           after: float | None = None) -> SlateOnRecording:
    """Press and release the slate on ``page`` and find it on ``recording``: the first slate
    run followed by the cut back that starts after ``after`` (seconds of recording: the end
    of an earlier measurement's run). The camera :data:`FORCED` must be forced."""
    fps = studio.program_fps()
    at_click = recording.stat().st_size  # what nginx had written when the operator clicked
    measure = _press(page, studio, fps)
    _release(page, studio, measure)
    released_at = time.monotonic()

    def scan() -> Run | None:
        measure.runs, measure.decoded = runs_of(recording, slate_like, from_byte=at_click)
        return next((run for run in measure.runs if run.end is not None
                     and (after is None or run.start > after)), None)

    measure.run = scan()
    while measure.run is None and time.monotonic() - released_at < DELIVERY_BOUND:
        time.sleep(1.0)  # a scan decodes a few seconds of 720p: not in a tight loop
        measure.run = scan()
    measure.delivered = time.monotonic() - released_at
    assert measure.run is not None, (
        f"no slate followed by the cut back on nginx's recording {DELIVERY_BOUND:g} s after the "
        f"release ({measure.decoded} frames decoded from the click on; slate runs: "
        f"{measure.runs})\n{measure.line()}")
    return measure
