"""Preflight: can this timeline go live here? Cameras, assets and destinations, checked.

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

__all__ = ["PreflightChecks", "PreflightItem", "PreflightReport", "assets_in"]

Status = Literal["ok", "warning", "error"]


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
    file; ``destinations``: the enabled destination ids. Called in the orchestrator's thread.
    """

    cameras: Callable[[], Collection[int]] | None = None
    source_health: Callable[[str], SourceHealth | None] | None = None
    asset_exists: Callable[[str], bool] | None = None
    destinations: Callable[[], Sequence[str]] | None = None

    def run(self, plan: ShowPlan | None) -> PreflightReport:
        if plan is None:
            return PreflightReport((PreflightItem(
                "timeline", "-", "error", "no timeline is loaded",
                "Load a timeline first (POST it, or set [show] timeline in the config).",
            ),))
        items = [PreflightItem("timeline", plan.timeline.id, "ok",
                               f"'{plan.timeline.name}' is loaded")]
        items += self._cameras(plan)
        items += self._assets(plan)
        items += self._destinations()
        return PreflightReport(tuple(items))

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
                yield PreflightItem("camera", subject, "ok", f"camera {camera_id} is online")
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
                yield PreflightItem("asset", reference, "ok", f"{reference} is there")
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
                                f"{len(enabled)} destination(s) configured")
        else:
            yield PreflightItem(
                "destinations", "-", "warning", "no destination is configured: the program "
                "is not sent anywhere", "Add a destination (or a recorder) in the configuration.",
            )
