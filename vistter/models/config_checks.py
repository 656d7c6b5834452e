"""The timeline checks that need the appliance configuration: cameras and their PTZ presets,
asset files in the assets folder, data source addresses the network policy allows, and the
fallback. Each problem about a cue names the cue, and says how to fix it.

Pure functions, called by :func:`vistter.models.validation.validate_timeline` in its thread.
"""

from __future__ import annotations

from collections.abc import Iterator

from vistter.models.assets import REFERENCE_HINT, AssetPathError, resolve_asset
from vistter.models.config import ApplianceConfig
from vistter.models.network import NetworkRefusedError
from vistter.models.overlays import (
    DynamicTextOverlay,
    ImageOverlay,
    LogoOverlay,
    LowerThirdOverlay,
)
from vistter.models.problems import Problem
from vistter.models.timeline import CameraCue, Cue, MediaCue, OverlayCue, Timeline

__all__ = ["cue_config_problems", "fallback_problems"]


def _camera_problem(
    config: ApplianceConfig, path: str, camera_id: int, cue_id: str | None = None
) -> Problem | None:
    if config.find_camera(camera_id) is not None:
        return None
    known = ", ".join(str(i) for i in sorted(config.camera_ids)) or "none"
    if cue_id is None:
        return Problem(
            path,
            f"camera {camera_id} is not configured",
            f"Use one of the configured cameras ({known}), or add camera {camera_id} (the "
            "Cameras page, POST /api/cameras, or the configuration file).",
        )
    return Problem(
        path,
        f"camera {camera_id} is not configured, so cue '{cue_id}' cannot show it",
        f"Pick one of the configured cameras ({known}) for cue '{cue_id}', or add camera "
        f"{camera_id} (the Cameras page, POST /api/cameras, or the configuration file).",
    )


def _asset_problem(
    config: ApplianceConfig, path: str, reference: str, cue_id: str | None = None
) -> Problem | None:
    """The reference is refused, or names no file in the assets folder.

    Messages name the asset as written, never a server path; hints name the cue.
    """
    for_cue = "" if cue_id is None else f" for cue '{cue_id}'"
    try:
        file = resolve_asset(reference, config.paths.assets_dir)
    except AssetPathError as error:
        return Problem(path, str(error), REFERENCE_HINT + (f" (cue '{cue_id}')" if cue_id else ""))
    if file.is_file():
        return None
    return Problem(
        path,
        f"the asset '{reference}' does not exist in the assets folder",
        "Upload it (POST /api/assets; GET /api/assets lists what is there), fix the name, "
        f"or pick another asset{for_cue}.",
    )


def _network_problem(config: ApplianceConfig, path: str, url: str) -> Problem | None:
    try:
        config.network.check_url(url)
    except NetworkRefusedError as error:
        return Problem(
            path,
            f"the data source url is not allowed: {error}",
            "Use an https address of a public server, or allow it under [network] "
            "(allowed_schemes, allowed_hosts) in the appliance configuration.",
        )
    return None


def cue_config_problems(config: ApplianceConfig, path: str, cue: Cue) -> Iterator[Problem]:
    """The problems of the cue at ``path`` that the configuration reveals."""
    found: Problem | None = None
    if isinstance(cue, CameraCue):
        found = _camera_problem(config, f"{path}.params.camera_id", cue.params.camera_id,
                                cue.id)  # fmt: skip
        camera = config.find_camera(cue.params.camera_id)
        preset = cue.params.preset_id
        ptz = camera.ptz if camera is not None else None
        if ptz is not None and preset is not None and preset not in ptz.presets:
            names = ", ".join(sorted(ptz.presets)) or "none"
            yield Problem(
                f"{path}.params.preset_id",
                f"cue '{cue.id}' asks camera {cue.params.camera_id} for PTZ preset "
                f"'{preset}', which it does not have",
                f"Pick one of its presets ({names}) for cue '{cue.id}', or add '{preset}' "
                "under the camera's ptz.presets.",
            )
    elif isinstance(cue, MediaCue):
        found = _asset_problem(config, f"{path}.params.media_url", cue.params.media_url,
                               cue.id)  # fmt: skip
    elif isinstance(cue, OverlayCue):
        params = cue.params
        if isinstance(params, LogoOverlay | ImageOverlay | LowerThirdOverlay):
            if params.image_url is not None:
                found = _asset_problem(config, f"{path}.params.image_url", params.image_url,
                                       cue.id)  # fmt: skip
        elif isinstance(params, DynamicTextOverlay) and params.source is not None:
            source = params.source
            if source.path is not None:
                try:
                    resolve_asset(source.path, config.paths.assets_dir)
                except AssetPathError as error:
                    found = Problem(f"{path}.params.source.path", str(error), REFERENCE_HINT)
            elif source.url is not None:
                found = _network_problem(config, f"{path}.params.source.url", source.url)
    if found is not None:
        yield found


def fallback_problems(timeline: Timeline, config: ApplianceConfig) -> Iterator[Problem]:
    """The problems of the timeline's fallback (backup camera, slate) in this configuration."""
    fallback = timeline.fallback
    if fallback is None:
        return
    if fallback.backup_camera_id is not None:
        problem = _camera_problem(
            config, "timeline.fallback.backup_camera_id", fallback.backup_camera_id
        )
        if problem is not None:
            yield problem
    if fallback.test_pattern is not None:
        problem = _asset_problem(config, "timeline.fallback.test_pattern", fallback.test_pattern)
        if problem is not None:
            yield problem
