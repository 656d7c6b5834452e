"""The wire format of the telemetry bus.

Every message travels as a two-frame ZeroMQ multipart message: the topic (UTF-8), so that
subscribers can filter by prefix, and a msgpack map with the envelope and the payload::

    [b"metrics.system", msgpack({"v": 1, "seq": 7, "ts": 1700000000.25,
                                 "pub": "3f9a1c0b2d4e", "payload": {...}})]

``seq`` counts 0, 1, 2, ... per topic and per publisher incarnation, so a subscriber that
filters by topic can still count exactly what it missed; ``pub`` is a random id drawn by each
publisher incarnation, so a publisher restart is not mistaken for a gap.

:func:`to_wire` turns any payload into msgpack-safe values; it never raises.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import msgpack

from vistter.errors import OperatorError

WIRE_VERSION = 1
_MAX_DEPTH = 32
_MAX_ARRAY_ITEMS = 4096
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1


class TelemetryDecodeError(OperatorError):
    """A message on the telemetry bus is not a Vistter telemetry message."""


@dataclasses.dataclass(frozen=True)
class TelemetryMessage:
    """One message as it travels on the bus.

    ``ts`` is unix time (seconds, wall clock) stamped by the publisher; ``payload`` holds only
    msgpack-safe values (see :func:`to_wire`).
    """

    topic: str
    seq: int
    ts: float
    publisher: str
    payload: dict[str, Any]


def encode(message: TelemetryMessage) -> list[bytes]:
    """The message as ``[topic, body]`` frames. Never raises for an odd payload value:
    whatever msgpack cannot carry is converted by :func:`to_wire`."""
    body = {
        "v": WIRE_VERSION,
        "seq": message.seq,
        "ts": message.ts,
        "pub": message.publisher,
        "payload": to_wire(message.payload),
    }
    packed: bytes = msgpack.packb(body, use_bin_type=True, default=_last_resort)
    return [message.topic.encode("utf-8"), packed]


def decode(frames: list[bytes]) -> TelemetryMessage:
    """Parse ``[topic, body]`` frames.

    Raises :class:`TelemetryDecodeError` for anything that is not a telemetry message of a
    known wire version (wrong frame count, bad UTF-8, corrupt msgpack, missing fields).
    """
    if len(frames) != 2:
        raise TelemetryDecodeError(
            f"telemetry message has {len(frames)} frames, expected 2 (topic, body).",
            hint="Only Vistter telemetry publishers should be bound to this endpoint.",
        )
    raw_topic, raw_body = (bytes(frame) for frame in frames)
    try:
        topic = raw_topic.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TelemetryDecodeError(
            f"telemetry topic {raw_topic[:40]!r} is not UTF-8.",
            hint="Only Vistter telemetry publishers should be bound to this endpoint.",
        ) from exc
    try:
        body = msgpack.unpackb(raw_body, raw=False)
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise TelemetryDecodeError(
            f"telemetry body on topic {topic!r} is not valid msgpack ({type(exc).__name__}).",
            hint="Check that publisher and subscriber run the same Vistter version.",
        ) from exc
    return _envelope(topic, body)


def _envelope(topic: str, body: Any) -> TelemetryMessage:
    if not isinstance(body, dict):
        raise TelemetryDecodeError(
            f"telemetry body on topic {topic!r} is a {type(body).__name__}, expected a map.",
            hint="Check that publisher and subscriber run the same Vistter version.",
        )
    version = body.get("v")
    if version != WIRE_VERSION:
        raise TelemetryDecodeError(
            f"telemetry message on topic {topic!r} has wire version {version!r}, "
            f"this subscriber reads version {WIRE_VERSION}.",
            hint="Run the same Vistter version on both ends.",
        )
    seq, ts, publisher, payload = (body.get(key) for key in ("seq", "ts", "pub", "payload"))
    if (
        not isinstance(seq, int)
        or isinstance(seq, bool)
        or seq < 0
        or not isinstance(ts, int | float)
        or isinstance(ts, bool)
        or not isinstance(publisher, str)
        or not isinstance(payload, dict)
    ):
        raise TelemetryDecodeError(
            f"telemetry message on topic {topic!r} lacks a valid seq, ts, pub or payload.",
            hint="Check that publisher and subscriber run the same Vistter version.",
        )
    return TelemetryMessage(topic, seq, float(ts), publisher, payload)


def to_wire(value: Any) -> Any:
    """``value`` made of msgpack-safe parts only: None, bool, int, float, str, bytes, list and
    dict with str keys. Runs in the caller's thread; never raises.

    Enums become their value, datetimes and dates ISO 8601 strings, timedeltas seconds,
    paths and UUIDs strings, dataclasses and pydantic models maps (pydantic's JSON mode, so
    secrets stay masked), sets sorted lists, exceptions a short map. Anything else, and any
    value nested deeper than 32 levels, becomes ``str(value)``.
    """
    try:
        return _convert(value, 0)
    except Exception:
        return _stringify(value)


def _convert(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return _stringify(value)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return _convert(value.value, depth + 1)
    if isinstance(value, int):
        return value if _INT_MIN <= value <= _INT_MAX else str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, Mapping):
        return {_key(key): _convert(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_convert(item, depth + 1) for item in value]
    if isinstance(value, set | frozenset):
        items = [_convert(item, depth + 1) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath | uuid.UUID | decimal.Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _convert(getattr(value, field.name), depth + 1)
            for field in dataclasses.fields(value)
        }
    if isinstance(value, BaseException):
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return _convert(to_dict(), depth + 1)
        return {"error": type(value).__name__, "problem": str(value)}
    dumped = _pydantic_dump(value)
    if dumped is not None:
        return _convert(dumped, depth + 1)
    return _numpy_value(value, depth)


def _pydantic_dump(value: Any) -> Any | None:
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type) and hasattr(type(value), "model_fields"):
        return dump(mode="json")
    return None


def _numpy_value(value: Any, depth: int) -> Any:
    if type(value).__module__ == "numpy":
        size = getattr(value, "size", 1)
        if isinstance(size, int) and size <= _MAX_ARRAY_ITEMS:
            converter = getattr(value, "tolist", None) or getattr(value, "item", None)
            if callable(converter):
                return _convert(converter(), depth + 1)
    return _stringify(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, enum.Enum):
        return str(key.value)
    return _stringify(key)


def _stringify(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _last_resort(value: Any) -> Any:
    """msgpack's ``default`` hook: only reached if :func:`to_wire` missed something."""
    return _stringify(value)
