"""Data sources of dynamic texts: a JSON file or an http(s) URL, read on an interval.

A :class:`DataProvider` reads its :class:`~vistter.models.overlays.DataSource` once per
:meth:`~DataProvider.read`: the JSON document, then the field its ``key`` names (a dotted
path, ``"tide.next_high"``; a number in the path indexes a list, ``"tides.0.time"``; a key
that exists as it is in the top-level object wins over the dotted reading). A failed read
(file missing, server down, timeout, bad JSON, key absent) **keeps the last good value**
and reports the failure in the returned :class:`DataStatus`, whose :meth:`DataStatus.alert`
is the payload to publish on the ``alert`` topic.

A :class:`DataPoller` runs the reads on a daemon thread every ``poll_interval`` seconds of
an injected :class:`~vistter.clock.Clock` and tells its owner about what matters: a new
value, the first failure, a recovery.

A URL is fetched only if the ``[network]`` policy allows it, checked again on the resolved
address (:mod:`vistter.overlays.fetch`); a path is a JSON file in the assets folder. Errors
name the source as the timeline wrote it (a URL without credentials or query), never a
server path.

Values are what the JSON holds: strings, numbers and booleans as they are (so a template
can say ``{value:.1f}``), ``null`` as ``None`` (shown empty), objects and lists as compact
JSON text.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from vistter.clock import Clock
from vistter.models.assets import REFERENCE_HINT, AssetPathError, resolve_asset
from vistter.models.network import NetworkConfig
from vistter.models.overlays import DataSource
from vistter.overlays.errors import DataSourceError
from vistter.overlays.fetch import fetch_bytes, safe_url
from vistter.telemetry.topics import ALERT_TOPIC

__all__ = ["ALERT_TOPIC", "DataPoller", "DataProvider", "DataStatus", "pick_field"]

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES: Final = 1024 * 1024
"""Largest JSON document a data source may return."""
DEFAULT_TIMEOUT: Final = 5.0
"""Seconds an http(s) read may take per network step."""

_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class DataStatus:
    """The outcome of the latest read, with the last good value.

    ``value`` is the last value read successfully (``None`` before the first success);
    ``ok`` tells whether the latest read succeeded; ``error`` says why it failed;
    ``failures`` counts failed reads in a row; ``changed`` is true when this read brought a
    value different from the one before; ``recovered`` is true on the first success after
    failures; ``read_at`` is the clock time of the last good read.
    """

    location: str
    value: object = None
    ok: bool = False
    error: DataSourceError | None = None
    failures: int = 0
    changed: bool = False
    recovered: bool = False
    read_at: float | None = None
    reads: int = 0

    @property
    def has_value(self) -> bool:
        """True once a read has succeeded (the value may still be ``None`` for JSON null)."""
        return self.read_at is not None

    def alert(self) -> dict[str, Any] | None:
        """The ``alert`` topic payload for a failed read, or ``None`` when the read succeeded."""
        if self.ok or self.error is None:
            return None
        kept = "keeps the last good value" if self.has_value else "has no value yet"
        return {
            "severity": "warning",
            "kind": "overlay_data",
            "source": self.location,
            "failures": self.failures,
            "message": f"Overlay data source {self.location} {kept}: {self.error}",
            **self.error.to_dict(),
        }


def pick_field(document: object, key: str | None) -> object:
    """The field ``key`` names in ``document`` (the whole document when ``key`` is None).

    Raises :class:`DataSourceError` naming the missing part of the path.
    """
    if key is None:
        return _as_value(document)
    if isinstance(document, dict) and key in document:
        return _as_value(document[key])
    current: object = document
    walked: list[str] = []
    for part in key.split("."):
        found = _step(current, part)
        if found is _MISSING:
            where = ".".join(walked) or "the top level"
            available = _keys_hint(current)
            raise DataSourceError(
                f"the data source has no {part!r} under {where} (key {key!r}).",
                hint=f"Fix the key in the overlay's source{available}.",
            )
        walked.append(part)
        current = found
    return _as_value(current)


def _step(node: object, part: str) -> object:
    if isinstance(node, dict):
        return node.get(part, _MISSING)
    if isinstance(node, list) and part.lstrip("-").isdigit():
        index = int(part)
        return node[index] if -len(node) <= index < len(node) else _MISSING
    return _MISSING


def _keys_hint(node: object) -> str:
    if isinstance(node, dict) and node:
        names = ", ".join(sorted(str(name) for name in node)[:10])
        return f"; there: {names}"
    if isinstance(node, list):
        return f"; there: a list of {len(node)} (index it with a number)"
    return ""


def _same(one: object, other: object) -> bool:
    """Equal values of the same type (so ``1`` -> ``true`` counts as a change)."""
    return type(one) is type(other) and one == other


def _as_value(node: object) -> object:
    if node is None or isinstance(node, str | int | float | bool):
        return node
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class DataProvider:
    """Reads one data source on request and remembers the last good value.

    Thread-safe: :meth:`read` may run in a poller thread while others read :attr:`status`.
    """

    def __init__(
        self,
        source: DataSource,
        assets_dir: Path,
        *,
        clock: Clock,
        timeout: float = DEFAULT_TIMEOUT,
        network: NetworkConfig | None = None,
    ) -> None:
        self.source = source
        self._assets_dir = assets_dir
        self._clock = clock
        self._timeout = timeout
        self._network = network if network is not None else NetworkConfig()
        self._lock = threading.Lock()
        self.location = safe_url(source.url) if source.url is not None else str(source.path)
        self._status = DataStatus(self.location)

    @property
    def poll_interval(self) -> float:
        """Seconds between reads, from the source."""
        return float(self.source.poll_interval)

    @property
    def status(self) -> DataStatus:
        """The latest :class:`DataStatus` (any thread)."""
        with self._lock:
            return self._status

    @property
    def value(self) -> object:
        """The last good value (``None`` before the first good read)."""
        return self.status.value

    def read(self) -> DataStatus:
        """Read the source now and return the new status.

        Runs in the caller's thread and blocks it for up to about ``timeout`` seconds for a
        URL. Never raises for a failed read (that is in the status, and logged as a warning);
        other exceptions are bugs and propagate.
        """
        try:
            value = pick_field(self._document(), self.source.key)
        except DataSourceError as error:
            with self._lock:
                before = self._status
                self._status = replace(
                    before,
                    ok=False,
                    error=error,
                    failures=before.failures + 1,
                    changed=False,
                    recovered=False,
                    reads=before.reads + 1,
                )
                status = self._status
            logger.warning("overlay data source %s: %s", self.location, error)
            return status
        with self._lock:
            before = self._status
            self._status = DataStatus(
                location=self.location,
                value=value,
                ok=True,
                error=None,
                failures=0,
                changed=not before.has_value or not _same(value, before.value),
                recovered=before.failures > 0,
                read_at=self._clock.monotonic(),
                reads=before.reads + 1,
            )
            return self._status

    def _document(self) -> object:
        data = self._raw()
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as error:
            raise DataSourceError(
                f"the data source {self.location} is not valid JSON: {error}.",
                hint='Publish a JSON document (an object such as {"tide": "3:45 PM"}).',
            ) from None

    def _raw(self) -> bytes:
        if self.source.url is not None:
            return fetch_bytes(
                self.source.url,
                timeout=self._timeout,
                limit=MAX_DOCUMENT_BYTES,
                error_type=DataSourceError,
                what="data source",
                policy=self._network,
            )
        assert self.source.path is not None  # the model guarantees path or url
        try:
            path = resolve_asset(self.source.path, self._assets_dir)
        except AssetPathError as error:
            raise DataSourceError(
                f"the data source path {self.source.path!r} is not usable: {error}.",
                hint=REFERENCE_HINT,
            ) from None
        name = repr(self.source.path)
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
        except FileNotFoundError:
            raise DataSourceError(
                f"the data source file {name} does not exist in the assets folder.",
                hint="Upload it (POST /api/assets) or fix the overlay's source path.",
            ) from None
        except OSError as error:
            raise DataSourceError(
                f"the data source file {name} cannot be read: {error.strerror or 'I/O error'}.",
                hint="Check that it is a readable file.",
            ) from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise DataSourceError(
                f"the data source file {name} is larger than {MAX_DOCUMENT_BYTES} bytes.",
                hint="Keep only what the overlay needs in the file.",
            )
        return data


class DataPoller:
    """Reads a :class:`DataProvider` every ``poll_interval`` seconds on a daemon thread.

    ``on_status`` runs in the poller thread after the first read, after every read that
    changed the value, on the first failure of a series and on recovery; it should only
    post a message to its actor. If ``on_status`` (or a read) raises, that is a bug: the
    thread calls ``on_crash(exception)`` (typically the owning actor's ``worker_died``, so
    the owning actor crashes and is restarted) and ends.
    """

    def __init__(
        self,
        provider: DataProvider,
        *,
        clock: Clock,
        on_status: Callable[[DataStatus], None],
        on_crash: Callable[[BaseException], None],
        name: str = "overlay-data",
    ) -> None:
        self.provider = provider
        self._clock = clock
        self._on_status = on_status
        self._on_crash = on_crash
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"vistter-{name}", daemon=True)

    def start(self) -> None:
        """Start polling (the first read happens at once)."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the thread to end and wait up to ``timeout`` s; True when it has ended.

        A read in progress is not interrupted: it ends within the provider's timeout.
        """
        self._stop.set()
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            first = True
            while not self._stop.is_set():
                status = self.provider.read()
                if self._stop.is_set():
                    return
                if first or status.changed or status.recovered or status.failures == 1:
                    self._on_status(status)
                first = False
                self._clock.wait(self._stop, self.provider.poll_interval)
        except Exception as error:
            logger.exception("overlay data poller for %s died", self.provider.location)
            self._on_crash(error)
