"""Status reads never wait on an actor doing slow work.

Seen on the loopback rig: ``/api/status`` blocked 1.1-1.2 s while a destination was being
torn down (its supervisor busy waiting for it to stop, the status asking that supervisor for
its children and that output for its status). Here an output's stop is made to take 2 s and
the status must answer in < 0.3 s throughout, showing the output as ``stopping``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pykka
import pytest
from support.mediapath import media_config, running_appliance

from vistter.appliance import Appliance
from vistter.clock import MonotonicClock
from vistter.status_reads import LastAnswers
from vistter.supervisors import ChildSpec, RootSupervisor, SupervisorFlags, start_function_for
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.topics import DESTINATION_TOPIC

SLOW_STOP = 2.0


class SlowToStopOutput(SupervisedActor):
    """An output whose teardown takes ``SLOW_STOP`` seconds (a publisher slow to end)."""

    def __init__(self, link: Link | None, output_id: str) -> None:
        super().__init__(link)
        self.output_id = output_id

    def setup(self) -> None:
        """Actor thread: says it is live, as an output does on every change."""
        self.link.events.publish(DESTINATION_TOPIC, dict(self.status()))

    def status(self) -> dict[str, Any]:
        return {"id": self.output_id, "kind": "test", "state": "live", "bytes_sent": 1234}

    def teardown(self) -> None:
        """Actor thread: blocks for ``SLOW_STOP`` seconds."""
        threading.Event().wait(SLOW_STOP)


def _timed(read: Any) -> tuple[float, Any]:
    started = time.monotonic()
    answer = read()
    return time.monotonic() - started, answer


@pytest.fixture
def slow_tree() -> Iterator[RootSupervisor]:
    spec = ChildSpec(id="slow-a", start=start_function_for(SlowToStopOutput, "a"), shutdown=10)
    root = RootSupervisor(SupervisorFlags(), [spec], name="outputs", clock=MonotonicClock())
    try:
        yield root
    finally:
        root.stop()
        pykka.ActorRegistry.stop_all(timeout=10)


@pytest.mark.timeout(30)
def test_children_now_answers_while_the_supervisor_waits_for_a_slow_child(
    slow_tree: RootSupervisor,
) -> None:
    handle = slow_tree.handle
    assert [(c.id, c.state) for c in handle.children_now()] == [("slow-a", "running")]
    stopper = threading.Thread(target=handle.terminate_child, args=("slow-a",))
    stopper.start()
    try:
        deadline = time.monotonic() + SLOW_STOP / 2
        states: list[str] = []
        while time.monotonic() < deadline:
            took, children = _timed(handle.children_now)
            assert took < 0.05
            states.append(children[0].state)
            time.sleep(0.05)
        assert states[-1] == "stopping", states
        assert handle.child_now("slow-a").state == "stopping"
    finally:
        stopper.join(10)
    assert [(c.id, c.state) for c in handle.children_now()] == [("slow-a", "stopped")]
    assert handle.children_now() == handle.which_children()  # the ask and the copy agree


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    camera = {"id": 1, "name": "Cam 1", "url": "lavfi:testsrc2=size=320x240:rate=30"}
    with running_appliance(media_config(tmp_path, [camera], [])) as running:
        yield running


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_status_answers_within_0_3_s_while_an_output_takes_2_s_to_stop(
    appliance: Appliance,
) -> None:
    outputs = appliance.root.handle.supervisor("outputs")
    outputs.start_child(
        ChildSpec(id="slow-a", start=start_function_for(SlowToStopOutput, "a"), shutdown=10)
    )
    took, status = _timed(appliance.status)
    entry = next(d for d in status["destinations"] if d["child"] == "slow-a")
    assert entry["state"] == "live" and entry["bytes_sent"] == 1234 and "stale" not in entry

    stopper = threading.Thread(target=outputs.terminate_child, args=("slow-a",))
    started = time.monotonic()
    stopper.start()
    try:
        timings: list[float] = []
        seen: list[str] = []
        while time.monotonic() - started < SLOW_STOP * 0.75:
            took, status = _timed(appliance.status)
            timings.append(took)
            entry = next(d for d in status["destinations"] if d["child"] == "slow-a")
            seen.append(entry["state"])
            took, listing = _timed(appliance.list_destinations)
            timings.append(took)
            assert [d["state"] for d in listing if d["child"] == "slow-a"] in (
                [entry["state"]], ["stopping"], ["stopped"])
            time.sleep(0.1)
        assert max(timings) < 0.3, timings
        assert seen[-1] == "stopping", seen
        assert entry["id"] == "a" and entry["stale"] is True  # what it last published
        assert all(part.get("state") != "unresponsive" for part in status["program"].values())
    finally:
        stopper.join(15)
    assert all(d["child"] != "slow-a" or d["state"] == "stopped"
               for d in appliance.list_destinations())


def test_a_busy_part_shows_its_last_answer_marked_stale() -> None:
    parts = LastAnswers()
    assert parts.settle("encoder", None) == {"state": "unresponsive"}  # never answered
    assert parts.settle("encoder", {"state": "running", "frames": 10}) == {
        "state": "running", "frames": 10}
    assert parts.settle("encoder", None) == {"state": "running", "frames": 10, "stale": True}
