"""``ask_method``: one call to an actor without building a Pykka proxy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from vistter.supervisors.calls import ask_method

pytestmark = pytest.mark.timeout(30)


class _Counter(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def add(self, amount: int) -> int:
        self.total += amount
        return self.total

    def fail(self) -> None:
        raise ValueError("the counter refuses")


@pytest.fixture
def counter() -> Iterator[pykka.ActorRef[Any]]:
    ref = _Counter.start()
    yield ref
    if ref.is_alive():
        ref.stop()


def test_the_method_runs_on_the_actor_and_its_reply_comes_back(
    counter: pykka.ActorRef[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_proxy(self: Any) -> Any:
        raise AssertionError("a proxy was built")

    monkeypatch.setattr(pykka.ActorRef, "proxy", no_proxy)
    assert ask_method(counter, "add", 2).get(timeout=5) == 2
    assert ask_method(counter, "add", 3).get(timeout=5) == 5


def test_an_exception_on_the_actor_comes_out_of_the_future(
    counter: pykka.ActorRef[Any],
) -> None:
    future = ask_method(counter, "fail")
    with pytest.raises(ValueError, match="the counter refuses"):
        future.get(timeout=5)
    assert counter.is_alive()  # a failed call does not stop the actor


def test_asking_a_stopped_actor_gives_actor_dead_from_the_future(
    counter: pykka.ActorRef[Any],
) -> None:
    counter.stop()
    future = ask_method(counter, "add", 1)  # does not raise here
    with pytest.raises(pykka.ActorDeadError):
        future.get(timeout=5)
