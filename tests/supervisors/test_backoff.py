"""The one backoff: supervisor restart delays, source reconnects and destination retries."""

from __future__ import annotations

import pytest

from vistter.supervisors.backoff import Backoff


def test_delays_grow_geometrically_up_to_the_maximum() -> None:
    spec = Backoff(initial=2, factor=2, maximum=60)
    assert [spec.delay(n) for n in range(8)] == [2, 4, 8, 16, 32, 60, 60, 60]
    reconnect = Backoff(initial=0.5, factor=2, maximum=10)
    assert [reconnect.delay(n) for n in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert all(isinstance(spec.delay(n), float) for n in range(3))


def test_a_fixed_backoff_waits_the_same_every_time() -> None:
    fixed = Backoff.fixed(1.5, reset_after=30)
    assert [fixed.delay(n) for n in range(4)] == [1.5] * 4
    assert fixed == Backoff(initial=1.5, factor=1, maximum=1.5, reset_after=30)


def test_weeks_of_attempts_do_not_overflow() -> None:
    assert Backoff(initial=1, factor=10, maximum=30).delay(10**9) == 30


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": 0}, "initial > 0"),
        ({"factor": 0.5}, "factor >= 1"),
        ({"initial": 10, "maximum": 5}, "maximum >= initial"),
        ({"reset_after": -1}, "reset_after must be >= 0"),
    ],
)
def test_nonsense_is_refused_with_the_rule_it_breaks(
    kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)


def test_attempts_count_from_zero() -> None:
    with pytest.raises(ValueError, match="from 0"):
        Backoff().delay(-1)
