"""The supervision tree readout never waits on a busy supervisor.

``GET /api/supervision`` used to ask every supervisor for its description and children: while
one was busy (stopping a child that takes 2 s to end) the readout waited with it. The
readout now comes from each supervisor's published copy (:mod:`vistter.supervisors.tree_view`);
it must answer within ~0.2 s throughout, show the child ``stopping``, and say the same as the
asking readout once the supervisors are idle.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from vistter.api import ApiDeps, create_app
from vistter.clock import MonotonicClock
from vistter.supervisors import (
    ChildSpec,
    RootSupervisor,
    Supervisor,
    SupervisorFlags,
    start_function_for,
)
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.payloads import TreeNode

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

BUSY = 2.0
READ_LIMIT = 0.2


class SlowToStop(SupervisedActor):
    """A worker whose teardown blocks its supervisor for ``BUSY`` seconds."""

    def teardown(self) -> None:
        """Actor thread: blocks for ``BUSY`` seconds."""
        threading.Event().wait(BUSY)


class Crashy(SupervisedActor):
    """A worker that raises when told to."""

    def crash(self) -> None:
        """Actor thread: raises, so its supervisor restarts it."""
        raise RuntimeError("crash on request")


@pytest.fixture
def root() -> Iterator[RootSupervisor]:
    slow = ChildSpec(id="slow", start=start_function_for(SlowToStop), shutdown=10)
    outputs = ChildSpec.supervisor(
        "outputs",
        start_function_for(Supervisor, SupervisorFlags(intensity=5, period=60.0), [slow]),
    )
    crashy = ChildSpec(id="crashy", start=start_function_for(Crashy))
    tree = RootSupervisor(SupervisorFlags(), [outputs, crashy], clock=MonotonicClock())
    try:
        yield tree
    finally:
        tree.stop()
        pykka.ActorRegistry.stop_all(timeout=10)


def _states(node: TreeNode | dict[str, Any]) -> dict[str, str]:
    found = {str(node.get("path", "")): str(node["state"])}
    for child in node["children"]:
        found.update(_states(child))
    return found


def _timed_get(client: TestClient, path: str) -> tuple[float, Any]:
    started = time.monotonic()
    response = client.get(path)
    took = time.monotonic() - started
    assert response.status_code == 200, response.text
    return took, response.json()


def test_snapshot_says_what_the_asks_say_when_idle(root: RootSupervisor) -> None:
    root.handle.child("crashy").proxy().crash()
    deadline = time.monotonic() + 5
    while root.handle.which_children()[1].restarts < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    snapshot, asked = root.tree_now(), root.tree()
    assert snapshot == asked
    assert snapshot["recent_restarts"] == 1
    assert [c["id"] for c in snapshot["children"]] == ["outputs", "crashy"]
    assert snapshot["children"][0]["children"][0]["path"].endswith("outputs/slow")


@pytest.mark.timeout(30)
def test_get_supervision_answers_within_0_2_s_while_a_supervisor_is_busy_2_s(
    root: RootSupervisor,
) -> None:
    app = create_app(
        ApiDeps(tree=root.tree_now, validate_timeline=lambda _d: [], started_at=0.0, version="t")
    )
    outputs = root.handle.supervisor("outputs")
    with TestClient(app) as client:
        _timed_get(client, "/api/supervision")  # the first request starts the thread pool
        stopper = threading.Thread(target=outputs.terminate_child, args=("slow",))
        started = time.monotonic()
        stopper.start()
        try:
            timings: list[float] = []
            seen: list[str] = []
            while time.monotonic() - started < BUSY * 0.75:
                took, tree = _timed_get(client, "/api/supervision")
                timings.append(took)
                seen.append(_states(tree)["root/outputs/slow"])
                time.sleep(0.05)
            health_took, health = _timed_get(client, "/api/health")
        finally:
            stopper.join(10)
    assert max(timings) < READ_LIMIT, timings
    assert health_took < READ_LIMIT and health["actors"]["total"] == 4
    assert "stopping" in seen, seen
    assert _states(root.tree_now())["root/outputs/slow"] == "stopped"


def test_the_asking_readout_does_wait_for_the_busy_supervisor(root: RootSupervisor) -> None:
    """Why the snapshot is needed: the asking readout waits until the stop is done."""
    outputs = root.handle.supervisor("outputs")
    stopper = threading.Thread(target=outputs.terminate_child, args=("slow",))
    stopper.start()
    try:
        time.sleep(0.2)
        started = time.monotonic()
        root.tree()
        waited = time.monotonic() - started
    finally:
        stopper.join(10)
    assert waited > BUSY / 2


def test_snapshot_of_a_stopped_root_is_tree_unavailable(root: RootSupervisor) -> None:
    root.stop()
    with pytest.raises(pykka.ActorDeadError):
        root.tree_now()
