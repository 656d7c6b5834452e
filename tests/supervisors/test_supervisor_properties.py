"""Property tests: random crash sequences against a reference model of OTP's rules.

Whatever the sequence of crashes and pauses, a supervisor (a) never leaves a dead permanent
child unrestarted while it lives, and (b) gives up exactly when more than ``intensity``
restarts fall within ``period`` seconds -- never earlier, never later.
"""

from __future__ import annotations

from collections import deque

import pykka
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.supervision_workers import Script, crash, states, tree, worker

from vistter.clock import FakeClock
from vistter.supervisors import Strategy

PERIOD = 10.0

operations = st.lists(
    st.one_of(
        st.tuples(st.just("crash"), st.integers(0, 2)),
        st.tuples(st.just("advance"), st.floats(0.0, 12.0, allow_nan=False)),
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.timeout(240)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    strategy=st.sampled_from(
        [Strategy.ONE_FOR_ONE, Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE]
    ),
    intensity=st.integers(0, 3),
    ops=operations,
)
def test_random_crashes_follow_the_otp_rules(
    strategy: Strategy, intensity: int, ops: list[tuple[str, float]]
) -> None:
    script = Script()
    clock = FakeClock()
    names = ["a", "b", "c"]
    root = tree(strategy, [worker(n, script) for n in names], intensity=intensity,
                period=PERIOD, clock=clock)
    restarts: deque[float] = deque()
    try:
        for op, value in ops:
            if op == "advance":
                clock.advance(value)
                continue
            crash(root, names[int(value)])
            now = clock.monotonic()
            restarts.append(now)
            while restarts and now - restarts[0] > PERIOD:
                restarts.popleft()
            if len(restarts) > intensity:
                assert root.exited.wait(5), "intensity exceeded but the supervisor lives on"
                assert root.exit is not None and root.exit.abnormal
                return
            current = states(root)  # handled after the crash's exit message
            assert not root.exited.is_set(), "gave up within the intensity"
            assert current == dict.fromkeys(names, "running"), current
    finally:
        script.release.set()
        pykka.ActorRegistry.stop_all(timeout=10)
