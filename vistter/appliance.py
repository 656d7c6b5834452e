"""The appliance: the lifecycle of the supervision tree, its status, live destinations.

The tree itself (root: telemetry, sources, program, outputs, show, api) is built by
:mod:`vistter.tree`; the appliance makes what it is built from (the program bus, the store,
the show context, the API's dependencies), starts and stops it, answers for status, and adds
and removes destinations while live.

The :class:`Appliance` object lives in the thread that starts it (the CLI's main thread);
the tree runs in actor threads.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pykka

from vistter import __version__
from vistter.actors.bus import ProgramBus
from vistter.actors.fanout.on_air import AirMode
from vistter.actors.sources.table import SLATE_SOURCE_ID
from vistter.alerts.monitoring import Monitoring, show_buffer
from vistter.api.app import ApiDeps
from vistter.api.auth import LoginSettings
from vistter.api.cameras import CameraDeps, source_on_air
from vistter.api.library import LibraryDeps
from vistter.api.library_show import loaded_from_orchestrator
from vistter.api.preview import preview_deps
from vistter.api.render_previews import RenderPreviewDeps
from vistter.api.server import check_bind
from vistter.api.show import ShowDeps
from vistter.appliance_store import Store, open_store
from vistter.clock import Clock, MonotonicClock
from vistter.degraded.child import DegradedChild, degraded_child
from vistter.errors import ConfigError, SupervisionError, UnknownChildError
from vistter.live_cameras import LiveCameras, live_cameras
from vistter.models.cameras import CameraConfig
from vistter.models.config import ApplianceConfig, check_destination_bitrate
from vistter.models.destinations import AnyDestination
from vistter.models.timeline import TimelineDocument
from vistter.models.validation import load_timeline_file, validate_timeline
from vistter.payloads import ApplianceStatus
from vistter.render.previews import PreviewRenders
from vistter.show import (
    PreflightChecks,
    PtzControllers,
    ShowContext,
    ShowSettings,
    assets_in,
)
from vistter.show.file_sources import SupervisedMedia
from vistter.show.live_checks import destination_reach, disk_space
from vistter.show.preflight import EncoderReport
from vistter.status_reads import LastAnswers, PublishedStatus, StatusAsks, output_listing
from vistter.supervisors import ChildSpec, RootSupervisor, SupervisorHandle
from vistter.supervisors.calls import ask_method
from vistter.supervisors.link import Exit
from vistter.supervisors.payloads import TreeNode
from vistter.telemetry import Metrics, TelemetryBus
from vistter.telemetry.topics import SUPERVISION_TOPIC
from vistter.tree import ROOT_FLAGS, TreeParts, output_child, root_children

logger = logging.getLogger(__name__)


class Appliance:
    """Builds, starts and stops the supervision tree for one configuration."""

    def __init__(self, config: ApplianceConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or MonotonicClock()
        self.bus = TelemetryBus()
        self.metrics = Metrics()
        self.monitoring = Monitoring(config, self.bus, self.metrics)
        self._root: RootSupervisor | None = None
        self._bus: ProgramBus | None = None
        self._store: Store | None = None
        self._show: ShowContext | None = None
        self._ptz: PtzControllers | None = None
        self._previews: PreviewRenders | None = None
        self._started_at = self.clock.monotonic()
        self._remove_listener = self.bus.add_listener(self._count_restarts)
        self._published = PublishedStatus()  # outputs' last status, for reads that never wait
        self._remove_published = self.bus.add_listener(self._published.on_publish)
        self._parts = LastAnswers()  # the program parts' last status answers
        self._outputs_lock = threading.Lock()  # one live add/remove at a time
        self._cameras: LiveCameras | None = None  # the cameras now (added/removed live)
        self._degraded: DegradedChild | None = None  # degraded mode's gate and status

    # -- lifecycle (caller's thread) ---------------------------------------------------

    def start(self) -> None:
        """Start the tree. Raises :class:`~vistter.errors.ConfigError` before starting
        anything when the API would listen beyond loopback without a token or ffmpeg cannot
        be used, and :class:`~vistter.errors.UnknownChildError` when a child fails to start."""
        token = self._api_token()
        check_bind(self.config.api.host, token,
                   admin_password=self.config.api.admin_password_hash is not None)
        self._store = open_store(self.config)
        previews = self.config.paths.data_dir / "previews"
        self._previews = PreviewRenders(lambda: self.config, previews)
        self.monitoring.open(self._store.db)
        self._bus = ProgramBus.build(self.config, self.clock, self.bus)
        logger.info("encoder: %s", self._bus.encoder.describe())
        self.monitoring.encoder_chosen(self._bus.encoder)
        self._bus.state.take(SLATE_SOURCE_ID)
        self._degraded = degraded_child(self.config, self._bus, self.bus, self.clock,
                                        lambda: self._ref_now("program/encoder"))
        show = self.config.show
        self._bus.fanout.air.set_mode(AirMode.ALWAYS if show.always_on_air else AirMode.WHILE_LIVE)
        self._show = self._show_context(self._bus)
        self._cameras = live_cameras(self.config.cameras, self._bus, self._show,
                                     lambda: self.root.handle.supervisor("sources"),
                                     followers=(self._cameras_changed,))
        timeline = self._configured_timeline()
        self._started_at = self.clock.monotonic()
        self._root = RootSupervisor(
            ROOT_FLAGS, self.child_specs(), clock=self.clock, events=self.bus
        )
        logger.info("appliance started (version %s)", __version__)
        if timeline is not None:
            orchestrator = self.orchestrator()
            orchestrator.load(timeline).get(timeout=30)
            logger.info("timeline loaded: %s", timeline.timeline.name)
            if show.autostart:
                orchestrator.go_live().get(timeout=30)
                logger.info("the show is live: %s", timeline.timeline.name)

    @property
    def root(self) -> RootSupervisor:
        if self._root is None:
            raise RuntimeError("the appliance has not been started")
        return self._root

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the appliance has not been started")
        return self._store

    @property
    def program(self) -> ProgramBus:
        if self._bus is None:
            raise RuntimeError("the appliance has not been started")
        return self._bus

    @property
    def cameras(self) -> LiveCameras:
        """The cameras now: the configured ones as changed through the API (not persisted)."""
        if self._cameras is None:
            raise RuntimeError("the appliance has not been started")
        return self._cameras

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
        if self._previews is not None:
            self._previews.close()  # ends a preview render by PID, empties its folder
        if self._ptz is not None:
            self._ptz.close()
        self.monitoring.close()  # writes the pending alerts: before the database closes
        if self._store is not None:
            self._store.db.close()
        self._remove_listener()
        self._remove_published()
        self.metrics.shutdown()

    def tree(self) -> TreeNode:
        """The supervision tree from each supervisor's published copy: never waits for a
        busy supervisor (``GET /api/supervision``, ``/api/health``)."""
        return self.root.tree_now()

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
        """The root's children, in start order (see :mod:`vistter.tree`)."""
        assert self._show is not None
        return root_children(TreeParts(
            config=self.config, telemetry=self.bus, metrics=self.metrics, program=self.program,
            show=self._show, api=self._api_deps(), executions=self.store.executions,
            preflight=self._preflight(),
            stream=self.monitoring.stream_sampler(
                started_at=self._started_at, buffer_fullness=show_buffer(self._show)),
            degraded=self._degraded,
        ))  # fmt: skip

    # -- the show ----------------------------------------------------------------------

    def _show_context(self, bus: ProgramBus) -> ShowContext:
        config = self.config
        self._ptz = PtzControllers.from_cameras(config.cameras, clock=self.clock, events=self.bus)
        media = SupervisedMedia(
            lambda: self.root.handle.supervisor("sources"),
            bus.fmt, bus.sources, config.paths.assets_dir, bus.ffmpeg,
        )
        return ShowContext.build(
            bus.state, config.paths.assets_dir, clock=self.clock,
            settings=ShowSettings(loop=config.show.loop,
                                  starting_soon=config.show.starting_soon),
            sources=media, ptz=self._ptz,
            network=config.network,
            on_air=lambda wanted: source_on_air(bus, wanted),
        )

    def _cameras_changed(self, cameras: tuple[CameraConfig, ...]) -> None:
        """Follows the live cameras (API worker thread): timelines, the show's load and the
        render previews read ``self.config``; the show's PTZ controllers follow too."""
        self.config = self.config.model_copy(update={"cameras": list(cameras)})
        if self._ptz is not None:
            self._ptz.set_cameras(cameras)

    def _preflight(self) -> PreflightChecks:
        config = self.config
        return PreflightChecks(
            cameras=self.cameras.ids,
            source_health=self.program.sources.health,
            asset_exists=assets_in(config.paths.assets_dir),
            destinations=lambda: [d.id for d in config.enabled_destinations],
            reachability=lambda: destination_reach(config.enabled_destinations),
            encoder=self._encoder_report,
            disk=lambda: disk_space(config.paths.data_dir),
            backups=self.cameras.backups,
        )

    def _encoder_report(self) -> EncoderReport:
        """The encoder chosen, why, and whether its actor runs (preflight; any thread)."""
        choice = self.program.encoder
        state = self._child_status("program/encoder").get("state")
        return EncoderReport(choice.encoder, choice.describe(), running=state != "unresponsive")

    def _configured_timeline(self) -> TimelineDocument | None:
        """The ``[show] timeline``, loaded at start (``autostart``: and live), validated
        against the config. Raises :class:`~vistter.errors.TimelineError` with every problem
        before anything starts, so a broken timeline never takes a running appliance down."""
        show = self.config.show
        if show.timeline is None:
            return None
        return load_timeline_file(show.timeline, self.config)

    def orchestrator(self) -> Any:
        """The orchestrator's proxy, resolved now (any thread)."""
        return self.root.handle.child("show/orchestrator").proxy()

    # -- destinations, live (caller's thread) ------------------------------------------

    def add_destination(self, destination: AnyDestination) -> str:
        """Start feeding a new destination while live; returns its child id.

        Raises :class:`~vistter.errors.SupervisionError` (409 in the API) when an output
        with that id exists, whatever its kind (``recorder`` is taken by the configured
        recorder), and :class:`~vistter.errors.ConfigError` when the program's bitrate is
        more than the destination's platform accepts.
        """
        problem = check_destination_bitrate(destination, self.config.encoding)
        if problem is not None:
            raise ConfigError(problem.message, hint=problem.hint)
        outputs = self.root.handle.supervisor("outputs")
        with self._outputs_lock:
            existing = self._output_child(destination.id)
            if existing is not None:
                raise SupervisionError(
                    f"there is already an output {destination.id!r} (child {existing!r} "
                    "under outputs)",
                    hint="Choose another id, or DELETE /api/destinations/"
                    f"{destination.id} first to replace it.",
                )
            return outputs.start_child(output_child(destination, self.config, self.program))

    def status(self) -> ApplianceStatus:
        """What is on air and how every part of the program is doing (keys masked).

        Runs in the caller's thread and never waits on a busy actor (see
        :mod:`vistter.status_reads`): a part that does not answer within the status budget
        shows what it last published (``stale``), or ``unresponsive``.
        """
        program = self.program
        asks = StatusAsks(self.clock)
        names = ("mixer", "encoder", "fanout")
        for name in names:
            asks.ask(name, self._ref_now(f"program/{name}"))
        destinations = self._list_outputs(asks)
        parts = {name: self._parts.settle(name, asks.answer(name)) for name in names}
        wanted = program.state.on_air()
        return {
            "on_air": {**wanted, "source": source_on_air(program, wanted["source"]),
                       "scheduled": wanted["source"]},
            "format": f"{program.fmt.size}@{program.fmt.fps}",
            "encoder": {"name": program.encoder.encoder, "why": program.encoder.describe()},
            "program": parts,
            "sources": {
                source: {"state": health.state.value, "detail": health.detail}
                for source, health in program.sources.snapshot().items()
            },
            "fallback": program.fallback.status(),
            "destinations": destinations,
            "publishing": program.fanout.air.status(),
            "health": self.monitoring.health(),
            "degraded": self._degraded.state.status() if self._degraded is not None else None,
        }

    def _child_status(self, path: str) -> dict[str, Any]:
        try:
            ref = self.root.handle.child(path).ref()
            answer: dict[str, Any] = ask_method(ref, "status").get(
                timeout=self.root.handle.timeout
            )
        except (pykka.ActorDeadError, pykka.Timeout, UnknownChildError):
            return {"state": "unresponsive"}
        return answer

    def _ref_now(self, path: str) -> pykka.ActorRef[Any] | None:
        """The running actor at ``path``, from the supervisors' published copies (no ask)."""
        try:
            return self.root.handle.child_now(path).ref
        except UnknownChildError:
            return None

    def list_destinations(self) -> list[dict[str, Any]]:
        """Every output's status (keys masked). A child that is restarting or stopping shows
        its state; never waits on a busy output (see :mod:`vistter.status_reads`)."""
        return self._list_outputs(StatusAsks(self.clock))

    def _list_outputs(self, asks: StatusAsks) -> list[dict[str, Any]]:
        outputs = self._ref_now("outputs")
        if outputs is None:
            return []
        try:
            children = SupervisorHandle(outputs).children_now()
        except UnknownChildError:
            return []
        return output_listing(children, asks, self._published,
                              output_id=lambda child_id: child_id.split("-", 1)[-1])

    def remove_destination(self, destination_id: str) -> None:
        """Stop feeding a destination and forget it."""
        outputs = self.root.handle.supervisor("outputs")
        with self._outputs_lock:
            child_id = self._output_child(destination_id)
            if child_id is None:
                raise UnknownChildError(
                    f"there is no destination {destination_id!r}",
                    hint="GET /api/destinations lists the outputs",
                )
            outputs.terminate_child(child_id)
            outputs.delete_child(child_id)
            self.program.fanout.detach(destination_id)

    def _output_child(self, destination_id: str) -> str | None:
        """The ``outputs`` child feeding ``destination_id`` (``<kind prefix>-<id>``)."""
        outputs = self.root.handle.supervisor("outputs")
        return next(
            (c.id for c in outputs.which_children() if c.id.split("-", 1)[-1] == destination_id),
            None,
        )

    def _api_deps(self) -> ApiDeps:
        api = self.config.api
        return ApiDeps(
            tree=self.tree,
            validate_timeline=lambda document: validate_timeline(document, self.config),
            started_at=self._started_at,
            version=__version__,
            token=self._api_token(),
            login=LoginSettings.from_config(api),
            max_body_bytes=api.max_body_bytes,
            clock=self.clock,
            restart_child=self.restart_child,
            destinations=self,
            status=self.status,
            events=self.bus,
            monitoring=self.monitoring.api(),
            cameras=CameraDeps(
                cameras=self.cameras.cameras, health=self.program.sources.snapshot,
                on_air=lambda: source_on_air(self.program), ptz=self._ptz,
                control=self.cameras,
            ),
            preview=preview_deps(self.program, self.config, lambda: self.root.handle,
                                 self.cameras.ids),
            render_previews=None if self._previews is None else RenderPreviewDeps(
                self._previews, self.store.timelines),
            show=ShowDeps(
                orchestrator=self.orchestrator, timelines=self.store.timelines,
                config=lambda: self.config,
            ),
            library=LibraryDeps(
                timelines=self.store.timelines,
                executions=self.store.executions,
                assets=self.store.assets,
                config=lambda: self.config,  # the cameras now: read at each save
                max_upload_bytes=api.max_upload_bytes,
                loaded_show=lambda: loaded_from_orchestrator(self.orchestrator),
            ),
        )

    def _api_token(self) -> str | None:
        token = self.config.api.token
        return token.get_secret_value() if token is not None else None

    def _count_restarts(self, topic: str, payload: dict[str, Any]) -> None:
        """Bus listener (runs in the publishing thread): supervision restarts -> metrics."""
        if topic == SUPERVISION_TOPIC and payload.get("event") == "child_restarted":
            self.metrics.record_restart(str(payload["supervisor"]), str(payload["child"]))
