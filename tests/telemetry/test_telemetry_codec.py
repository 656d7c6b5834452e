"""Wire format: encode/decode round trip, odd payload values, garbage, gap accounting."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import msgpack
import numpy as np
import pytest
from pydantic import BaseModel, SecretStr

from vistter.errors import ConfigError, OperatorError
from vistter.telemetry import GapCounter, TelemetryDecodeError, TelemetryMessage, decode, encode
from vistter.telemetry.codec import to_wire


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclass(frozen=True)
class Cue:
    at: dt.timedelta
    path: Path


class Destination(BaseModel):
    name: str
    key: SecretStr


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


def message(
    seq: int, *, publisher: str = "pubA", topic: str = "metrics.stream"
) -> TelemetryMessage:
    return TelemetryMessage(topic, seq, 1_700_000_000.5, publisher, {"seq": seq})


def test_round_trip_keeps_every_field() -> None:
    original = TelemetryMessage("event.camera", 42, 1_700_000_000.25, "abc123",
                                {"camera": "dock", "fps": 29.97, "ok": True, "raw": b"\x00\x01"})
    frames = encode(original)
    assert frames[0] == b"event.camera"
    assert len(frames) == 2
    assert decode(frames) == original


def test_odd_values_become_msgpack_safe() -> None:
    when = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
    payload: dict[Any, Any] = {
        "colour": Colour.RED,
        "level": Level.HIGH,
        "when": when,
        "day": dt.date(2024, 5, 1),
        "path": PurePosixPath("/var/lib/vistter"),
        "cue": Cue(dt.timedelta(seconds=1.5), Path("/tmp/a.png")),
        "destination": Destination(name="youtube", key=SecretStr("live-key-123")),
        "tags": {"b", "a"},
        "mixed": {1, "x"},
        "tuple": (1, 2),
        "id": uuid.UUID(int=1),
        "price": decimal.Decimal("1.10"),
        "error": ConfigError("bad endpoint", hint="fix it"),
        "plain_error": ValueError("boom"),
        "numpy": np.float32(0.5),
        "array": np.arange(3),
        "huge": 2**70,
        "object": object(),
        "unprintable": Unprintable(),
        1: "int key",
        Colour.RED: "enum key",
    }
    wire = to_wire(payload)
    decoded = decode(encode(TelemetryMessage("alert", 0, 0.0, "p", payload))).payload
    assert decoded == wire
    assert wire["colour"] == "red"
    assert wire["level"] == 3
    assert wire["when"] == "2024-05-01T12:30:00+00:00"
    assert wire["day"] == "2024-05-01"
    assert wire["path"] == "/var/lib/vistter"
    assert wire["cue"] == {"at": 1.5, "path": "/tmp/a.png"}
    assert wire["destination"]["name"] == "youtube"
    assert "live-key-123" not in str(wire["destination"])  # secrets stay masked
    assert wire["tags"] == ["a", "b"]
    assert sorted(map(str, wire["mixed"])) == ["1", "x"]
    assert wire["tuple"] == [1, 2]
    assert wire["id"] == str(uuid.UUID(int=1))
    assert wire["price"] == "1.10"
    assert wire["error"] == {"error": "ConfigError", "problem": "bad endpoint", "hint": "fix it"}
    assert wire["plain_error"] == {"error": "ValueError", "problem": "boom"}
    assert wire["numpy"] == 0.5
    assert wire["array"] == [0, 1, 2]
    assert wire["huge"] == str(2**70)
    assert wire["object"].startswith("<object object")
    assert wire["unprintable"] == "<unprintable Unprintable>"
    assert wire["1"] == "int key"
    assert wire["red"] == "enum key"


def test_deep_or_cyclic_values_are_cut_not_crashing() -> None:
    cyclic: list[object] = []
    cyclic.append(cyclic)
    wire = to_wire({"cyclic": cyclic})
    packed = msgpack.packb(wire, use_bin_type=True)
    assert isinstance(packed, bytes)
    depth = 0
    node = wire["cyclic"]
    while isinstance(node, list):
        node = node[0]
        depth += 1
    assert isinstance(node, str)
    assert 30 <= depth <= 34


@pytest.mark.parametrize(
    "frames",
    [
        [b"metrics.stream"],
        [b"metrics.stream", b"x", b"y"],
        [b"\xff\xfe", msgpack.packb({"v": 1, "seq": 0, "ts": 0.0, "pub": "p", "payload": {}})],
        [b"metrics.stream", b"\xc1\xc1\xc1"],
        [b"metrics.stream", msgpack.packb([1, 2, 3])],
        [b"metrics.stream", msgpack.packb({"v": 99, "seq": 0, "ts": 0.0, "pub": "p",
                                           "payload": {}})],
        [b"metrics.stream", msgpack.packb({"v": 1, "seq": -1, "ts": 0.0, "pub": "p",
                                           "payload": {}})],
        [b"metrics.stream", msgpack.packb({"v": 1, "seq": 0, "ts": "now", "pub": "p",
                                           "payload": {}})],
        [b"metrics.stream", msgpack.packb({"v": 1, "seq": 0, "ts": 0.0, "payload": {}})],
        [b"metrics.stream", msgpack.packb({"v": 1, "seq": 0, "ts": 0.0, "pub": "p",
                                           "payload": [1]})],
    ],
)
def test_garbage_raises_a_typed_error(frames: list[bytes]) -> None:
    with pytest.raises(TelemetryDecodeError) as caught:
        decode(frames)
    assert isinstance(caught.value, OperatorError)
    assert caught.value.hint


def test_gap_counter_counts_jumps_per_publisher() -> None:
    gaps = GapCounter()
    assert gaps.observe(message(7)) == 0  # the first one seen is a baseline, not a gap
    assert gaps.observe(message(8)) == 0
    assert gaps.observe(message(11)) == 2
    assert gaps.observe(message(11)) == 0  # duplicate
    assert gaps.observe(message(9)) == 0  # late
    assert gaps.observe(message(12)) == 0
    assert gaps.missed == {"pubA": 2}
    assert gaps.missed_total == 2


def test_gap_counter_a_new_publisher_id_is_a_restart_not_a_gap() -> None:
    gaps = GapCounter()
    for seq in range(5):
        gaps.observe(message(seq, publisher="old"))
    assert gaps.observe(message(0, publisher="new")) == 0
    assert gaps.observe(message(1, publisher="new")) == 0
    assert gaps.observe(message(3, publisher="new")) == 1
    assert gaps.missed == {"old": 0, "new": 1}
    assert gaps.publishers == ["old", "new"]


def test_gap_counter_topics_have_their_own_sequences() -> None:
    gaps = GapCounter()
    for seq in range(3):
        gaps.observe(message(seq, topic="metrics.stream"))
        gaps.observe(message(seq, topic="metrics.system"))
    assert gaps.observe(message(5, topic="metrics.system")) == 2
    assert gaps.missed_total == 2
