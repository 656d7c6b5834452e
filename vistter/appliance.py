"""The appliance: one supervision tree built from the configuration.

```
root (one_for_one)
├── telemetry  (one_for_one: publisher, system sampler)
└── api        (uvicorn serving the Starlette control app)
```

Later subtrees (sources, program, outputs, show) join the root in that order. The
:class:`Appliance` object lives in the thread that starts it (the CLI's main thread); the
tree runs in actor threads.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

import pykka

from vistter import __version__
from vistter.actors.link import Exit, Link
from vistter.api.app import ApiDeps, create_app
from vistter.api.server import ApiServer, check_bind
from vistter.clock import Clock, MonotonicClock
from vistter.errors import SupervisionError
from vistter.models.config import ApplianceConfig
from vistter.models.validation import validate_timeline
from vistter.supervisors import (
    Backoff,
    ChildSpec,
    HeartbeatSpec,
    RootSupervisor,
    Strategy,
    Supervisor,
    SupervisorFlags,
    start_function_for,
)
from vistter.telemetry import Metrics, SystemSampler, TelemetryBus, TelemetryPublisher

logger = logging.getLogger(__name__)

ROOT_FLAGS = SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=5, period=30)
SERVICE_BACKOFF = Backoff(initial=1, factor=2, maximum=30, reset_after=60)
HEARTBEAT = HeartbeatSpec(interval=5, timeout=15)


class Appliance:
    """Builds, starts and stops the supervision tree for one configuration."""

    def __init__(self, config: ApplianceConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or MonotonicClock()
        self.bus = TelemetryBus()
        self.metrics = Metrics()
        self._root: RootSupervisor | None = None
        self._started_at = self.clock.monotonic()
        self._remove_listener = self.bus.add_listener(self._count_restarts)

    # -- lifecycle (caller's thread) ---------------------------------------------------

    def start(self) -> None:
        """Start the tree. Raises :class:`~vistter.errors.ConfigError` before starting
        anything when the API would listen beyond loopback without a token, and
        :class:`~vistter.errors.UnknownChildError` when a child fails to start."""
        token = self._api_token()
        check_bind(self.config.api.host, token)
        self._started_at = self.clock.monotonic()
        self._root = RootSupervisor(
            ROOT_FLAGS, self.child_specs(), clock=self.clock, events=self.bus
        )
        logger.info("appliance started (version %s)", __version__)

    @property
    def root(self) -> RootSupervisor:
        if self._root is None:
            raise RuntimeError("the appliance has not been started")
        return self._root

    @property
    def exited(self) -> threading.Event:
        return self.root.exited

    @property
    def exit(self) -> Exit | None:
        return self.root.exit

    def stop(self) -> None:
        """Stop every actor (children in reverse start order) and every process they own."""
        if self._root is not None:
            self._root.stop()
        self._remove_listener()
        self.metrics.shutdown()

    def tree(self) -> dict[str, Any]:
        return self.root.tree()

    def restart_child(self, path: str) -> None:
        """Stop and start again the actor at ``path`` (e.g. ``telemetry/system``).

        Runs in the caller's thread (the API's worker pool). The API itself and the root
        cannot be restarted this way: the request would wait on its own shutdown.
        """
        parts = [part for part in path.split("/") if part]
        if parts and parts[0] == self.root.link.child_id:
            parts = parts[1:]
        if not parts or parts[0] == "api":
            raise SupervisionError(
                f"{path!r} cannot be restarted through the control API",
                hint="restart the appliance (systemctl restart vistter) instead",
            )
        *parents, child_id = parts
        handle = self.root.handle.supervisor("/".join(parents)) if parents else self.root.handle
        handle.terminate_child(child_id)
        handle.restart_child(child_id)

    # -- the tree ----------------------------------------------------------------------

    def child_specs(self) -> list[ChildSpec]:
        """The root's children, in start order."""
        return [self._telemetry_spec(), self._api_spec()]

    def _telemetry_spec(self) -> ChildSpec:
        telemetry = self.config.telemetry
        children = [
            ChildSpec(
                "publisher",
                start_function_for(TelemetryPublisher, self.bus, telemetry.endpoint),
                restart_delay=SERVICE_BACKOFF,
                heartbeat=HEARTBEAT,
            ),
            ChildSpec(
                "system",
                _start_sampler(self.bus, telemetry.system_interval, self.metrics,
                               self.config.paths.data_dir),
                restart_delay=SERVICE_BACKOFF,
                heartbeat=HEARTBEAT,
            ),
        ]
        return ChildSpec.supervisor(
            "telemetry",
            start_function_for(Supervisor, SupervisorFlags(Strategy.ONE_FOR_ONE), children),
        )

    def _api_spec(self) -> ChildSpec:
        api = self.config.api
        token = self._api_token()
        deps = ApiDeps(
            tree=self.tree,
            validate_timeline=functools.partial(validate_timeline, config=self.config),
            started_at=self._started_at,
            version=__version__,
            token=token,
            max_body_bytes=api.max_body_bytes,
            clock=self.clock,
            restart_child=self.restart_child,
        )
        return ChildSpec(
            "api",
            start_function_for(ApiServer, create_app(deps), api.host, api.port, token),
            restart_delay=SERVICE_BACKOFF,
        )

    def _api_token(self) -> str | None:
        token = self.config.api.token
        return token.get_secret_value() if token is not None else None

    def _count_restarts(self, topic: str, payload: dict[str, Any]) -> None:
        """Bus listener (runs in the publishing thread): supervision restarts -> metrics."""
        if topic == "event.supervision" and payload.get("event") == "child_restarted":
            self.metrics.record_restart(str(payload["supervisor"]), str(payload["child"]))


def _start_sampler(
    bus: TelemetryBus, interval: float, metrics: Metrics, data_dir: Any
) -> Callable[..., pykka.ActorRef[Any]]:
    def start(link: Link) -> pykka.ActorRef[Any]:
        return SystemSampler.start(link, bus, interval, metrics=metrics, data_dir=data_dir)

    return start
