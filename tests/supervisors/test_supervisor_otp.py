"""Erlang/OTP supervisor semantics, mirroring the case matrix of OTP's supervisor_SUITE.

Restart types x exit kinds, every strategy with and without escalation, shutdown timeout
then kill, child administration, restarts that keep failing, and nested escalation.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Iterator
from typing import Any

import pykka
import pytest
from support.supervision_workers import (
    Script,
    crash,
    exit_normally,
    refs,
    states,
    tree,
    wait_until,
    worker,
)

from vistter.errors import ChildStartError, UnknownChildError, VistterError
from vistter.supervisors import (
    ChildSpec,
    RestartType,
    RootSupervisor,
    Strategy,
    Supervisor,
    SupervisorFlags,
    start_function_for,
)
from vistter.supervisors.link import ExitReason
from vistter.supervisors.payloads import TreeNode

pytestmark = pytest.mark.timeout(30)

P, T, X = RestartType.PERMANENT, RestartType.TRANSIENT, RestartType.TEMPORARY


@pytest.fixture
def script() -> Iterator[Script]:
    s = Script()
    yield s
    s.release.set()
    pykka.ActorRegistry.stop_all(timeout=10)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); check /proc for its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# -- starting and stopping -------------------------------------------------------------


def test_children_start_in_order_and_stop_in_reverse(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker(n, script) for n in "abc"])
    assert script.starts == ["a", "b", "c"]
    root.stop()
    assert script.stops == ["c", "b", "a"]
    assert root.exit is not None and root.exit.reason is ExitReason.NORMAL


def test_child_failing_to_start_fails_the_supervisor_and_stops_the_started(
    script: Script,
) -> None:
    script.fail_start["b"] = -1
    with pytest.raises(UnknownChildError, match="b refuses to start"):
        tree(Strategy.ONE_FOR_ONE, [worker(n, script) for n in "abc"])
    assert script.starts == ["a"]
    assert script.stops == ["b", "a"]  # b's teardown runs after its failed setup


def test_duplicate_child_ids_are_refused(script: Script) -> None:
    with pytest.raises(ValueError, match="duplicate child ids"):
        tree(Strategy.ONE_FOR_ONE, [worker("a", script), worker("a", script)])


def test_shutdown_timeout_then_kill_ends_the_owned_process(script: Script) -> None:
    script.slow_stop["a"] = 30
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script, shutdown=0.3)])
    pid = root.handle.child("a").proxy().spawn_sleeper().get(timeout=5)
    assert pid in root.handle.which_children()[0].pids
    root.handle.terminate_child("a")
    info = root.handle.which_children()[0]
    assert info.state == "stopped"
    assert info.history[-1].reason == "killed"
    assert wait_until(lambda: not pid_alive(pid)), "the child's process survived the kill"


def test_shutdown_within_time_is_a_clean_shutdown(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script, shutdown=5)])
    pid = root.handle.child("a").proxy().spawn_sleeper().get(timeout=5)
    root.handle.terminate_child("a")
    assert root.handle.which_children()[0].history[-1].reason == "shutdown"
    assert not pid_alive(pid), "a stopped actor must end its processes (SIGTERM, then kill)"


def test_stopping_root_kills_processes_of_the_whole_tree(script: Script) -> None:
    inner = ChildSpec.supervisor(
        "inner",
        start_function_for(
            Supervisor, SupervisorFlags(Strategy.ONE_FOR_ONE), [worker("deep", script)]
        ),
    )
    root = tree(Strategy.ONE_FOR_ONE, [inner, worker("a", script)])
    pid = root.handle.child("inner/deep").proxy().spawn_sleeper().get(timeout=5)
    root.stop()
    assert not pid_alive(pid)
    assert script.stops == ["a", "deep"]


# -- child administration (OTP child_adm) ----------------------------------------------


def test_child_administration(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script)])
    assert root.handle.start_child(worker("b", script)) == "b"
    with pytest.raises(VistterError, match="already has a child 'b'"):
        root.handle.start_child(worker("b", script))
    assert root.handle.count_children() == {
        "specs": 2, "active": 2, "supervisors": 0, "workers": 2,
    }
    root.handle.terminate_child("b")
    assert states(root) == {"a": "running", "b": "stopped"}
    with pytest.raises(UnknownChildError, match="not running"):
        root.handle.child_ref("b")
    with pytest.raises(VistterError, match="is running"):
        root.handle.delete_child("a")
    root.handle.restart_child("b")
    assert states(root)["b"] == "running"
    root.handle.terminate_child("b")
    root.handle.delete_child("b")
    assert list(states(root)) == ["a"]
    with pytest.raises(UnknownChildError, match="known children: a"):
        root.handle.terminate_child("nope")


def test_start_child_that_fails_is_not_kept(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script)])
    script.fail_start["b"] = -1
    with pytest.raises(ChildStartError, match="b refuses to start"):
        root.handle.start_child(worker("b", script))
    assert list(states(root)) == ["a"]


def test_temporary_child_spec_is_dropped_when_terminated(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script), worker("t", script, X)])
    root.handle.terminate_child("t")
    assert list(states(root)) == ["a"]


# -- restart type x exit kind (permanent/transient/temporary x normal/shutdown/abnormal) --


@pytest.mark.parametrize(
    ("restart", "how", "restarted"),
    [
        (P, "normal", True),
        (P, "abnormal", True),
        (T, "normal", False),
        (T, "abnormal", True),
        (X, "normal", False),
        (X, "abnormal", False),
    ],
)
def test_restart_type_by_exit_kind(
    script: Script, restart: RestartType, how: str, restarted: bool
) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("w", script, restart)])
    if how == "normal":
        exit_normally(root, "w")
    else:
        crash(root, "w")
    if restarted:
        assert wait_until(lambda: states(root).get("w") == "running" and script.count("w") == 2)
        assert root.handle.which_children()[0].restarts == 1
    elif restart is X:
        assert wait_until(lambda: "w" not in states(root)), "temporary child must be removed"
        assert script.count("w") == 1
    else:
        assert wait_until(lambda: states(root).get("w") == "exited")
        assert script.count("w") == 1


@pytest.mark.parametrize("restart", [P, T, X])
def test_shutdown_by_supervisor_is_never_restarted(script: Script, restart: RestartType) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("w", script, restart), worker("z", script)])
    root.handle.terminate_child("w")
    assert script.count("w") == 1
    assert "w" not in states(root) or states(root)["w"] == "stopped"


def test_exception_in_ask_handler_crashes_and_restarts(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("w", script)])
    crash(root, "w")
    assert wait_until(lambda: script.count("w") == 2)
    entry = root.handle.which_children()[0].history[-1]
    assert entry.reason == "crash"
    assert entry.error is not None and "crashed on purpose" in entry.error


def test_exception_in_tell_handler_crashes_and_restarts(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("w", script)])
    root.handle.child_ref("w").proxy().crash()  # fire and forget (a tell through the proxy)
    assert wait_until(lambda: script.count("w") == 2 and states(root)["w"] == "running")


def test_operator_error_goes_back_to_the_caller_and_the_actor_lives(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("w", script)])
    before = root.handle.child_ref("w")
    from vistter.errors import OperatorError

    with pytest.raises(OperatorError, match="send good input"):
        before.proxy().expected_failure().get(timeout=5)
    assert root.handle.child_ref("w") is before
    assert before.is_alive()


def test_exception_in_setup_during_restart_is_retried(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("w", script)], intensity=5)
    script.fail_start["w"] = 2
    crash(root, "w")
    assert wait_until(lambda: states(root).get("w") == "running" and script.count("w") == 2)
    reasons = [h.reason for h in root.handle.which_children()[0].history]
    assert reasons == ["crash", "start_failed", "start_failed"]


# -- strategies -----------------------------------------------------------------------


def test_one_for_one_restarts_only_the_dead_child(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker(n, script) for n in "abc"])
    before = refs(root)
    crash(root, "b")
    assert wait_until(lambda: script.count("b") == 2)
    after = refs(root)
    assert after["a"] is before["a"] and after["c"] is before["c"]
    assert after["b"] is not before["b"]


def test_one_for_all_restarts_all_in_order_after_stopping_in_reverse(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ALL, [worker(n, script) for n in "abc"])
    crash(root, "b")
    assert wait_until(lambda: len(script.starts) == 6)
    assert script.starts == ["a", "b", "c", "a", "b", "c"]
    # b's teardown runs as it crashes; then the others stop in reverse order
    assert script.stops == ["b", "c", "a"]
    assert all(s == "running" for s in states(root).values())


def test_rest_for_one_restarts_the_dead_child_and_those_after_it(script: Script) -> None:
    root = tree(Strategy.REST_FOR_ONE, [worker(n, script) for n in "abcd"])
    before = refs(root)
    crash(root, "b")
    assert wait_until(lambda: len(script.starts) == 7)
    assert script.starts == ["a", "b", "c", "d", "b", "c", "d"]
    assert script.stops == ["b", "d", "c"]
    assert refs(root)["a"] is before["a"]


@pytest.mark.parametrize("strategy", [Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE])
def test_temporary_sibling_taken_down_is_not_restarted(
    script: Script, strategy: Strategy
) -> None:
    root = tree(strategy, [worker("a", script), worker("t", script, X), worker("c", script)])
    crash(root, "a")
    assert wait_until(lambda: script.count("a") == 2 and script.count("c") == 2)
    assert "t" not in states(root)
    assert script.count("t") == 1


@pytest.mark.parametrize("strategy", [Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE])
def test_transient_sibling_taken_down_is_restarted(script: Script, strategy: Strategy) -> None:
    root = tree(strategy, [worker("a", script), worker("t", script, T)])
    crash(root, "a")
    assert wait_until(lambda: script.count("t") == 2 and states(root)["t"] == "running")


def test_simple_one_for_one_dynamic_children(script: Script) -> None:
    root = tree(Strategy.SIMPLE_ONE_FOR_ONE, [worker("cam", script)])
    assert states(root) == {}
    first = root.handle.start_child(("one",))
    second = root.handle.start_child(("two",))
    assert (first, second) == ("cam-1", "cam-2")
    assert root.handle.child(first).proxy().extra.get(timeout=5) == ("one",)
    crash(root, second)
    assert wait_until(lambda: script.count("cam-2") == 2)
    assert root.handle.child(second).proxy().extra.get(timeout=5) == ("two",)
    root.handle.terminate_child(first)
    assert list(states(root)) == [second]
    with pytest.raises(VistterError, match="takes start arguments"):
        root.handle.start_child(worker("x", script))


def test_simple_one_for_one_template_must_be_single(script: Script) -> None:
    with pytest.raises(ValueError, match="exactly one child template"):
        tree(Strategy.SIMPLE_ONE_FOR_ONE, [worker("a", script), worker("b", script)])


# -- intensity and escalation ---------------------------------------------------------


@pytest.mark.parametrize(
    "strategy",
    [Strategy.ONE_FOR_ONE, Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE],
)
def test_escalation_after_more_than_intensity_restarts(script: Script, strategy: Strategy) -> None:
    root = tree(strategy, [worker("a", script), worker("b", script)], intensity=2, period=60)
    for _ in range(2):
        crash(root, "b")
        assert wait_until(lambda: states(root).get("b") == "running")
    crash(root, "b")
    assert root.exited.wait(5), "the supervisor must give up after the third restart"
    assert root.exit is not None and root.exit.reason is ExitReason.CRASH
    assert root.exit.error is not None and "more than 2 restarts within 60 s" in root.exit.error
    assert "a" in script.stops, "children must be stopped when the supervisor gives up"


def test_simple_one_for_one_escalation(script: Script) -> None:
    root = tree(Strategy.SIMPLE_ONE_FOR_ONE, [worker("w", script)], intensity=1, period=60)
    child = root.handle.start_child(())
    other = root.handle.start_child(())
    crash(root, child)
    assert wait_until(lambda: script.count(child) == 2)
    crash(root, child)
    assert root.exited.wait(5)
    assert other in script.stops


def test_intensity_zero_escalates_on_first_crash(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script)], intensity=0)
    crash(root, "a")
    assert root.exited.wait(5)


def test_restarts_outside_the_period_do_not_add_up(script: Script) -> None:
    from vistter.clock import FakeClock

    clock = FakeClock()
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script)], intensity=1, period=10, clock=clock)
    for n in range(2, 6):
        crash(root, "a")
        assert wait_until(functools.partial(lambda n: script.count("a") == n, n))
        clock.advance(10.5)
    assert not root.exited.is_set()


def test_a_restart_that_keeps_failing_escalates(script: Script) -> None:
    """OTP's hanging_restart_loop: failed restarts count toward intensity."""
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script)], intensity=3, period=60)
    script.fail_start["a"] = -1
    crash(root, "a")
    assert root.exited.wait(5)
    reasons = [r for r in script.starts]
    assert reasons == ["a"]


def test_escalation_goes_up_to_the_parent(script: Script) -> None:
    inner = ChildSpec.supervisor(
        "inner",
        start_function_for(
            Supervisor,
            SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=0, period=60),
            [worker("deep", script)],
        ),
    )
    root = tree(Strategy.ONE_FOR_ONE, [inner, worker("sibling", script)], intensity=1, period=60)
    sibling = refs(root)["sibling"]
    crash(root, "inner/deep")
    # inner gives up; root restarts it (and with it a fresh "deep"), sibling untouched
    assert wait_until(lambda: script.count("deep") == 2 and states(root)["inner"] == "running")
    history = root.handle.which_children()[0].history
    assert history[-1].reason == "crash" and "giving up" in (history[-1].error or "")
    assert refs(root)["sibling"] is sibling
    crash(root, "inner/deep")
    assert root.exited.wait(5), "the second escalation exceeds the root's intensity"
    assert set(script.stops) >= {"sibling", "deep"}


def test_supervisor_child_shutdown_infinity_waits_for_its_subtree(script: Script) -> None:
    spec = ChildSpec.supervisor(
        "inner",
        start_function_for(Supervisor, SupervisorFlags(), [worker("slow", script, shutdown=5)]),
    )
    assert math.isinf(spec.shutdown)
    script.slow_stop["slow"] = 0.3
    root = tree(Strategy.ONE_FOR_ONE, [spec])
    root.handle.terminate_child("inner")
    assert script.stops == ["slow"]
    assert root.handle.which_children()[0].history[-1].reason == "shutdown"


# -- reaching children by id --------------------------------------------------------------


def test_child_handle_follows_restarts(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("w", script)])
    handle = root.handle.child("w")
    first = handle.ref()
    crash(root, "w")
    assert wait_until(lambda: states(root)["w"] == "running" and handle.ref() is not first)
    assert handle.proxy().ping().get(timeout=5) == "w"


def test_nested_path_resolution(script: Script) -> None:
    inner = ChildSpec.supervisor(
        "sources",
        start_function_for(Supervisor, SupervisorFlags(), [worker("camera-1", script)]),
    )
    root = tree(Strategy.ONE_FOR_ONE, [inner])
    assert root.handle.child("sources/camera-1").proxy().ping().get(timeout=5) == "camera-1"
    with pytest.raises(UnknownChildError, match="has no child 'camera-9'"):
        root.handle.child("sources/camera-9").ref()


def test_tree_readout(script: Script) -> None:
    inner = ChildSpec.supervisor(
        "sources",
        start_function_for(
            Supervisor, SupervisorFlags(Strategy.REST_FOR_ONE), [worker("camera-1", script)]
        ),
    )
    root = tree(Strategy.ONE_FOR_ONE, [inner, worker("api", script)])
    pid = root.handle.child("sources/camera-1").proxy().spawn_sleeper().get(timeout=5)
    crash(root, "api")
    assert wait_until(lambda: states(root)["api"] == "running")
    snapshot: TreeNode = root.tree()
    assert snapshot["id"] == "root" and snapshot["strategy"] == "one_for_one"
    sources, api = snapshot["children"]
    assert sources["kind"] == "supervisor" and sources["strategy"] == "rest_for_one"
    camera = sources["children"][0]
    assert camera["path"] == "root/sources/camera-1"
    assert camera["actor"] == "Worker" and camera["state"] == "running"
    assert camera["pids"] == [pid]
    assert api["restarts"] == 1 and api["history"][0]["reason"] == "crash"
    import json

    json.dumps(snapshot)  # JSON-ready


def test_supervision_events_are_published(script: Script) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    class Sink:
        def publish(self, topic: str, payload: dict[str, Any]) -> None:
            with lock:
                events.append((topic, payload))

    root = tree(Strategy.ONE_FOR_ONE, [worker("w", script)], intensity=1, period=60,
                events=Sink())
    crash(root, "w")
    assert wait_until(lambda: script.count("w") == 2)
    crash(root, "w")
    assert root.exited.wait(5)
    kinds = [(p["event"], p["child"]) for t, p in events if t == "event.supervision"]
    assert kinds[:4] == [
        ("child_started", "w"),
        ("child_exited", "w"),
        ("child_restarted", "w"),
        ("child_exited", "w"),
    ]
    assert ("escalated", "w") in kinds


def test_root_that_fails_reports_through_exited() -> None:
    flags = SupervisorFlags(Strategy.ONE_FOR_ONE)
    root = RootSupervisor(flags, [])
    root.stop()
    assert root.exited.is_set()
