"""The encoder control calls a real actor's ``reconfigure`` through its proxy, finds a
restarted encoder, and turns every way it can fail into one error the manager retries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.degraded.control import EncoderUnavailableError, ProxyEncoderControl


class Encoder(pykka.ThreadingActor):
    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.taken: list[EncodeOverrides] = []

    def reconfigure(self, overrides: EncodeOverrides) -> int:
        if self.fail:
            raise OSError("ffmpeg: cannot allocate memory")
        self.taken.append(overrides)
        return 1234

    def taken_so_far(self) -> list[EncodeOverrides]:
        return list(self.taken)


class OldEncoder(pykka.ThreadingActor):
    """An encoder without ``reconfigure``."""


@pytest.fixture
def refs() -> Iterator[list[pykka.ActorRef[Any]]]:
    started: list[pykka.ActorRef[Any]] = []
    yield started
    for ref in started:
        ref.stop()


def test_reconfigure_reaches_the_running_encoder(refs: list[pykka.ActorRef[Any]]) -> None:
    current: dict[str, pykka.ActorRef[Any] | None] = {"ref": Encoder.start()}
    refs.append(current["ref"])  # type: ignore[arg-type]
    control = ProxyEncoderControl(lambda: current["ref"], timeout=5)
    first = control.encoder_id()
    control.reconfigure(EncodeOverrides(bitrate_kbps=3600))
    assert current["ref"].proxy().taken_so_far().get(timeout=5) == [EncodeOverrides(3600)]  # type: ignore[union-attr]
    restarted = Encoder.start()  # restarted by its supervisor
    refs.append(restarted)
    current["ref"] = restarted
    assert control.encoder_id() != first
    current["ref"] = None
    assert control.encoder_id() is None
    with pytest.raises(EncoderUnavailableError, match="not running"):
        control.reconfigure(EncodeOverrides(bitrate_kbps=3600))


def test_a_failed_handover_and_an_old_encoder_are_unavailable(
    refs: list[pykka.ActorRef[Any]],
) -> None:
    failing = Encoder.start(fail=True)
    old = OldEncoder.start()
    refs += [failing, old]
    with pytest.raises(EncoderUnavailableError, match="cannot allocate memory"):
        ProxyEncoderControl(lambda: failing, timeout=5).reconfigure(EncodeOverrides(height=540))
    with pytest.raises(EncoderUnavailableError, match="no reconfigure"):
        ProxyEncoderControl(lambda: old, timeout=5).reconfigure(EncodeOverrides(height=540))
    gone = Encoder.start()
    gone.stop()
    with pytest.raises(EncoderUnavailableError, match="ActorDeadError"):
        ProxyEncoderControl(lambda: gone, timeout=5).reconfigure(EncodeOverrides(fps=15))
