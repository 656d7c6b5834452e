"""Preflight: can this timeline go live here? The spec's pre-flight checklist, each item
ok / warning / error with a sentence that says what to do: cameras online (n/m), timeline
loaded and valid, destinations configured and reachable (each probed with its protocol's own
handshake, nothing published), overlay assets present, the encoder chosen and why, disk
space, backup camera online.

Nothing here stops an unattended appliance from going live on a camera that is offline (the
fallback covers it) or an overlay whose picture is missing (the cue is skipped with an alert):
those are *warnings*. An *error* (no timeline, a cue naming a camera that is not configured)
blocks :meth:`~vistter.show.orchestrator.Orchestrator.go_live` unless it is forced.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vistter.actors.sources.table import SourceHealth, SourceState, camera_source_id
from vistter.models.assets import AssetPathError, resolve_asset
from vistter.models.overlays import DynamicTextOverlay, ImageOverlay, LogoOverlay, LowerThirdOverlay
from vistter.models.timeline import CameraCue, MediaCue
from vistter.show.payloads import PreflightItemPayload, PreflightPayload
from vistter.show.plan import ShowPlan

__all__ = [
    "DestinationReach",
    "DiskSpace",
    "EncoderReport",
    "PreflightChecks",
    "PreflightItem",
    "PreflightReport",
    "assets_in",
]

Status = Literal["ok", "warning", "error"]

OK_HINT = "Nothing to do."
GIB = 1024**3
DISK_ERROR_BYTES = GIB // 4
"""Below this much free space the recorder and the database cannot keep writing: an error."""
DISK_WARNING_BYTES = 2 * GIB
"""Below this, a warning: a few hours of recording at most."""


@dataclass(frozen=True, slots=True)
class DestinationReach:
    """What a destination's probe found: ``reachable`` None when its kind has no server to
    probe (a local output); ``url`` is safe to show (no key); ``detail`` says why not."""

    destination_id: str
    url: str
    reachable: bool | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DiskSpace:
    """Free and total bytes of the file system holding ``path`` (the data folder)."""

    path: str
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class EncoderReport:
    """The encoder chosen (``name``), why (``why``), and whether its actor runs now."""

    name: str
    why: str
    running: bool


@dataclass(frozen=True, slots=True)
class PreflightItem:
    """One finding: what was checked (``check``, ``subject``), how it went, and what to do."""

    check: str
    subject: str
    status: Status
    message: str
    hint: str = ""

    def to_dict(self) -> PreflightItemPayload:
        return PreflightItemPayload(check=self.check, subject=self.subject, status=self.status,
                                    message=self.message, hint=self.hint)


@dataclass(frozen=True, slots=True)
class PreflightReport:
    items: tuple[PreflightItem, ...]

    @property
    def ok(self) -> bool:
        """No blocking problem (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> tuple[PreflightItem, ...]:
        return tuple(item for item in self.items if item.status == "error")

    @property
    def warnings(self) -> tuple[PreflightItem, ...]:
        return tuple(item for item in self.items if item.status == "warning")

    def to_dict(self) -> PreflightPayload:
        return PreflightPayload(ok=self.ok, errors=len(self.errors), warnings=len(self.warnings),
                                items=[item.to_dict() for item in self.items])


def assets_in(assets_dir: Path) -> Callable[[str], bool]:
    """An ``asset_exists`` check for files under ``assets_dir`` (network URLs count as there)."""

    def exists(reference: str) -> bool:
        try:
            path = resolve_asset(reference, assets_dir)
        except AssetPathError:
            return False
        return path is None or path.is_file()

    return exists


@dataclass(frozen=True)
class PreflightChecks:
    """How to look at the appliance: each callable is optional (None: not checked).

    ``cameras``: the configured camera ids; ``source_health``: a source's health by id (the
    source table's ``health``); ``asset_exists``: whether an asset reference resolves to a
    file; ``destinations``: the enabled destination ids; ``reachability``: probes every
    enabled destination (blocks a few seconds at most); ``encoder``: the encoder chosen;
    ``disk``: free space of the data folder; ``backups``: the backup camera ids of the
    configured cameras. Called in the orchestrator's thread.
    """

    cameras: Callable[[], Collection[int]] | None = None
    source_health: Callable[[str], SourceHealth | None] | None = None
    asset_exists: Callable[[str], bool] | None = None
    destinations: Callable[[], Sequence[str]] | None = None
    reachability: Callable[[], Sequence[DestinationReach]] | None = None
    encoder: Callable[[], EncoderReport] | None = None
    disk: Callable[[], DiskSpace] | None = None
    backups: Callable[[], Collection[int]] | None = None

    def run(self, plan: ShowPlan | None, *, probe: bool = True) -> PreflightReport:
        """Every check on ``plan``. ``probe`` False leaves out the destination probes (GO
        LIVE itself: a destination that does not answer retries by itself once live, and
        probing would delay the first frame by the probes' timeout)."""
        if plan is None:
            return PreflightReport((PreflightItem(
                "timeline", "-", "error", "no timeline is loaded",
                "Load a timeline first (POST it, or set [show] timeline in the config).",
            ),))
        items = [PreflightItem("timeline", plan.timeline.id, "ok",
                               f"'{plan.timeline.name}' is loaded and valid", OK_HINT)]
        items += self._cameras_online()
        items += self._cameras(plan)
        items += self._backups(plan)
        items += self._assets(plan)
        items += self._destinations()
        if probe:
            items += self._reachability()
        items += self._encoder()
        items += self._disk()
        return PreflightReport(tuple(items))

    def _online(self, camera_id: int) -> bool:
        health = self.source_health(camera_source_id(camera_id)) if self.source_health else None
        return health is not None and health.state is SourceState.ONLINE

    def _cameras_online(self) -> Iterator[PreflightItem]:
        if self.cameras is None or self.source_health is None:
            return
        configured = sorted(self.cameras())
        online = [camera_id for camera_id in configured if self._online(camera_id)]
        subject = f"{len(online)}/{len(configured)}"
        if configured and len(online) == len(configured):
            yield PreflightItem("cameras", subject, "ok",
                                f"cameras online ({subject})", OK_HINT)
        elif not configured:
            yield PreflightItem(
                "cameras", subject, "warning", "no camera is configured: only stills, videos "
                "and the slate can go on air", "Add a camera in the configuration.",
            )
        else:
            offline = ", ".join(str(c) for c in configured if c not in online)
            yield PreflightItem(
                "cameras", subject, "warning",
                f"cameras online ({subject}); not online: {offline}",
                "Check the power, network and URL of the cameras not online; their cues fall "
                "back to the backup camera or the slate.",
            )

    def _backups(self, plan: ShowPlan) -> Iterator[PreflightItem]:
        backups = set(self.backups()) if self.backups is not None else set()
        fallback = plan.timeline.fallback
        if fallback is not None and fallback.backup_camera_id is not None:
            backups.add(fallback.backup_camera_id)
        if self.source_health is None:
            return
        for camera_id in sorted(backups):
            subject = camera_source_id(camera_id)
            if self._online(camera_id):
                yield PreflightItem("backup", subject, "ok",
                                    f"backup camera {camera_id} is online", OK_HINT)
            else:
                yield PreflightItem(
                    "backup", subject, "warning",
                    f"backup camera {camera_id} is not online: a camera that fails goes "
                    "straight to the slate",
                    f"Check backup camera {camera_id}'s power, network and URL.",
                )

    def _reachability(self) -> Iterator[PreflightItem]:
        if self.reachability is None:
            return
        for reach in self.reachability():
            if reach.reachable is None:
                continue
            if reach.reachable:
                yield PreflightItem("destination", reach.destination_id, "ok",
                                    f"{reach.url} answers", OK_HINT)
            else:
                yield PreflightItem(
                    "destination", reach.destination_id, "warning",
                    f"{reach.url} does not answer ({reach.detail}); once live, the "
                    "destination keeps retrying by itself",
                    "Check the server URL and this box's internet connection (and that the "
                    "platform's ingest is enabled).",
                )

    def _encoder(self) -> Iterator[PreflightItem]:
        if self.encoder is None:
            return
        report = self.encoder()
        if report.running:
            yield PreflightItem("encoder", report.name, "ok",
                                f"encoding with {report.why}", OK_HINT)
        else:
            yield PreflightItem(
                "encoder", report.name, "warning",
                f"the encoder ({report.why}) is not running now; its supervisor restarts it",
                "Wait a few seconds and check again; if it persists, GET /api/supervision "
                "shows the encoder's restarts and the log says why.",
            )

    def _disk(self) -> Iterator[PreflightItem]:
        if self.disk is None:
            return
        disk = self.disk()
        free = f"{disk.free_bytes / GIB:.1f} GiB free on {disk.path}"
        if disk.free_bytes >= DISK_WARNING_BYTES:
            yield PreflightItem("disk", disk.path, "ok", free, OK_HINT)
        elif disk.free_bytes >= DISK_ERROR_BYTES:
            yield PreflightItem("disk", disk.path, "warning", f"only {free}",
                                "Delete old recordings (var/recordings) or add storage.")
        else:
            yield PreflightItem(
                "disk", disk.path, "error",
                f"only {free}: recordings and the run log cannot keep writing",
                "Free space now: delete old recordings (var/recordings) or add storage.",
            )

    def _cameras(self, plan: ShowPlan) -> Iterator[PreflightItem]:
        used = sorted({span.cue.params.camera_id for span in plan.video_spans()
                       if isinstance(span.cue, CameraCue)})
        fallback = plan.timeline.fallback
        if fallback is not None and fallback.backup_camera_id is not None:
            used = sorted({*used, fallback.backup_camera_id})
        configured = set(self.cameras()) if self.cameras is not None else None
        for camera_id in used:
            subject = camera_source_id(camera_id)
            if configured is not None and camera_id not in configured:
                yield PreflightItem(
                    "camera", subject, "error", f"camera {camera_id} is not configured",
                    f"Add camera {camera_id} to the configuration or change the timeline's "
                    f"cues (configured: {', '.join(map(str, sorted(configured))) or 'none'}).",
                )
                continue
            if self.source_health is None:
                continue
            health = self.source_health(subject)
            if health is not None and health.state is SourceState.ONLINE:
                yield PreflightItem("camera", subject, "ok", f"camera {camera_id} is online",
                                    OK_HINT)
            else:
                state = "has not reported yet" if health is None else f"is {health.state.value}"
                yield PreflightItem(
                    "camera", subject, "warning",
                    f"camera {camera_id} {state}; its cues fall back to the backup or slate",
                    "Check the camera's power, network and URL.",
                )

    def _assets(self, plan: ShowPlan) -> Iterator[PreflightItem]:
        if self.asset_exists is None:
            return
        references: dict[str, str] = {}
        for track_id in plan.track_ids:
            for span in plan.spans(track_id):
                cue = span.cue
                params = cue.params
                if isinstance(cue, MediaCue):
                    references.setdefault(cue.params.media_url, cue.id)
                elif isinstance(params, LogoOverlay | ImageOverlay) or (
                    isinstance(params, LowerThirdOverlay) and params.image_url is not None
                ):
                    assert params.image_url is not None
                    references.setdefault(params.image_url, cue.id)
                elif isinstance(params, DynamicTextOverlay) and params.source is not None \
                        and params.source.path is not None:
                    references.setdefault(params.source.path, cue.id)
        fallback = plan.timeline.fallback
        if fallback is not None and fallback.test_pattern is not None:
            references.setdefault(fallback.test_pattern, "fallback")
        for reference, cue_id in references.items():
            if self.asset_exists(reference):
                yield PreflightItem("asset", reference, "ok", f"{reference} is there", OK_HINT)
            else:
                yield PreflightItem(
                    "asset", reference, "warning",
                    f"{reference} (used by {cue_id}) is missing; that cue will be skipped "
                    "with an alert",
                    "Upload the file to the assets folder, or fix the reference.",
                )

    def _destinations(self) -> Iterator[PreflightItem]:
        if self.destinations is None:
            return
        enabled = list(self.destinations())
        if enabled:
            yield PreflightItem("destinations", ", ".join(enabled), "ok",
                                f"{len(enabled)} destination(s) configured", OK_HINT)
        else:
            yield PreflightItem(
                "destinations", "-", "warning", "no destination is configured: the program "
                "is not sent anywhere", "Add a destination (or a recorder) in the configuration.",
            )
