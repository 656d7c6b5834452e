"""Session limits: platform defaults, validation in words, and when a planned reconnect fires.

Pure logic: the plan is driven by explicit monotonic times (as a ``FakeClock`` gives them) and
an injected wall clock, so a limit of hours is checked without waiting for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr, ValidationError

from vistter.actors.outputs.session_limit import (
    Moment,
    Observed,
    ProgramMoments,
    SessionPlan,
    limit_words,
)
from vistter.actors.program.state import ProgramState
from vistter.clock import FakeClock
from vistter.media.frames import FrameFormat
from vistter.models.destinations import RtmpDestination

KEY = SecretStr("k")


def _rtmp(platform: str, **fields: object) -> RtmpDestination:
    return RtmpDestination.model_validate(
        {"id": "d", "platform": platform, "url": "rtmp://127.0.0.1/live", "stream_key": KEY,
         **fields}
    )  # fmt: skip


def test_platform_defaults_and_override() -> None:
    assert _rtmp("facebook").session_limit_seconds == 8 * 3600
    assert _rtmp("twitch").session_limit_seconds == 48 * 3600
    assert _rtmp("youtube").session_limit_seconds is None
    assert _rtmp("custom_rtmp").session_limit_seconds is None
    assert _rtmp("custom_rtmp", max_session_hours=12).session_limit_seconds == 12 * 3600
    assert _rtmp("facebook", max_session_hours=0).session_limit_seconds is None
    assert _rtmp("facebook", max_session_hours=2.5).session_limit_seconds == 9000


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"platform": "facebook", "max_session_hours": 9},
         "facebook ends a live video after 8 hours, so max_session_hours (9) must be at most 8"),
        ({"platform": "twitch", "max_session_hours": 50}, "must be at most 48"),
        ({"platform": "custom_rtmp", "max_session_hours": -1}, "greater than or equal to 0"),
        ({"platform": "custom_rtmp", "max_session_hours": "long"}, "valid number"),
        ({"platform": "custom_rtmp", "max_session_hours": 0.1},
         "reconnect_margin_minutes (10) must be shorter than the session limit (6 minutes)"),
        ({"platform": "facebook", "reconnect_margin_minutes": 0}, "greater than 0"),
    ],
)  # fmt: skip
def test_invalid_session_limits_are_refused_in_words(fields: dict[str, object], words: str) -> None:
    platform = fields.pop("platform")
    assert isinstance(platform, str)
    with pytest.raises(ValidationError) as caught:
        _rtmp(platform, **fields)
    assert words in str(caught.value)


def test_limit_words() -> None:
    assert limit_words("facebook", 8 * 3600) == "Facebook's 8-hour limit"
    assert limit_words("twitch", 48 * 3600) == "Twitch's 48-hour limit"
    assert limit_words("custom_rtmp", 8) == "the 8-second session limit"


def _wall(clock: FakeClock) -> datetime:
    base = datetime(2026, 12, 3, 13, 58, 0, tzinfo=UTC)
    return base + timedelta(seconds=clock.monotonic() - 1000.0)


def test_plan_waits_for_a_cut_then_for_a_frame_outside_a_transition() -> None:
    clock = FakeClock(1000.0)
    hours8 = 8 * 3600.0
    plan = SessionPlan("facebook", hours8, 600.0, lambda: _wall(clock))
    assert plan.status()["planned_at"] is None
    plan.session_started(clock.monotonic())
    status = plan.status()
    assert status["message"] == "planned reconnect before Facebook's 8-hour limit at 21:48"
    start = clock.monotonic()
    steady, cut, fade = (Observed(m, 1) for m in (Moment.STEADY, Moment.CUT, Moment.TRANSITION))
    assert not plan.due(start + hours8 - 601)
    assert not plan.quiet_enough(start + hours8 - 601, cut)  # before the margin: never
    assert plan.due(start + hours8 - 600)
    # first half of the margin: only a cut
    assert not plan.quiet_enough(start + hours8 - 600, steady)
    assert not plan.quiet_enough(start + hours8 - 301, fade)
    assert plan.quiet_enough(start + hours8 - 599, cut)
    # second half: any frame not inside a transition
    assert plan.quiet_enough(start + hours8 - 299, steady)
    assert not plan.quiet_enough(start + hours8 - 1, fade)
    # at the limit: whatever shows
    assert plan.quiet_enough(start + hours8, fade)
    clock.advance(hours8 - 299)
    assert plan.reconnected(Observed(Moment.CUT, 4242)) == "reconnected (planned) at 21:53:01"
    status = plan.status()
    assert status["last_reconnect_frame"] == 4242 and status["last_reconnect_moment"] == "cut"
    assert status["reconnects"] == 1 and status["planned_at"] is None
    plan.session_started(clock.monotonic())
    assert plan.status()["message"] == (
        "reconnected (planned) at 21:53:01; planned reconnect before Facebook's 8-hour limit "
        "at 05:43"
    )


def test_program_moments_read_cuts_and_transitions() -> None:
    state = ProgramState(FrameFormat(64, 36, 30))
    moments = ProgramMoments(state)
    state.take("a", 0)
    state.take("b", 10, "fade", 15)
    state.take("c", 40)
    seen: dict[int, Moment] = {}
    for n in range(50):
        state.frame_plan(n)
        observed = moments.observe()
        assert observed.frame == n
        seen[n] = observed.moment
    assert [seen[n] for n in (0, 1, 2, 3)] == [Moment.CUT] * 3 + [Moment.STEADY]
    assert {seen[n] for n in range(10, 25)} == {Moment.TRANSITION}
    assert seen[25] is Moment.STEADY and seen[9] is Moment.STEADY
    assert [seen[n] for n in (40, 41, 42, 43)] == [Moment.CUT] * 3 + [Moment.STEADY]
