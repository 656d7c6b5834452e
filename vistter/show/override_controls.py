"""The manual overrides of the orchestrator (emergency slate, force / pin a camera, clear
the overlays, live text), each published on ``event.show``.

A mixin of :class:`~vistter.show.orchestrator.Orchestrator`: the methods run in its thread,
through its proxy, and delegate to its :class:`~vistter.show.overrides.OverrideDesk`. A
:class:`~vistter.show.errors.ShowError` they raise goes back to the caller (a 4xx in the API).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vistter.show.errors import ShowError
from vistter.show.going_live import LiveStatus
from vistter.show.overrides import OverrideAction, OverrideDesk
from vistter.show.payloads import TextUpdate

if TYPE_CHECKING:
    from vistter.show.show_state import ShowState

__all__ = ["OverrideControls"]


class OverrideControls:
    """The manual overrides (see the module doc)."""

    overrides: OverrideDesk
    show: ShowState

    if TYPE_CHECKING:  # given by the orchestrator

        def status(self) -> LiveStatus: ...

        def _publish(self, event: str, **extra: Any) -> None: ...

    def emergency_slate(self) -> LiveStatus:
        return self._override("slate", self.overrides.emergency_slate)

    def release_slate(self) -> LiveStatus:
        return self._override("slate_released", self.overrides.release_slate)

    def force_camera(self, camera_id: int) -> LiveStatus:
        if isinstance(camera_id, bool) or not isinstance(camera_id, int):
            raise ShowError(f"{camera_id!r:.40} is not a camera id.", hint="Give e.g. 2.")
        return self._override("camera_forced", lambda: self.overrides.force_camera(camera_id))

    def release_camera(self) -> LiveStatus:
        return self._override("camera_released", self.overrides.release_camera)

    def pin_camera(self) -> LiveStatus:
        return self._override("camera_pinned", self.overrides.pin_camera)

    def unpin_camera(self) -> LiveStatus:
        return self._override("camera_unpinned", self.overrides.unpin_camera)

    def clear_overlays(self) -> LiveStatus:
        return self._override("overlays_cleared", self.overrides.clear_overlays)

    def restore_overlays(self) -> LiveStatus:
        return self._override("overlays_restored", self.overrides.restore_overlays)

    def release_overrides(self) -> LiveStatus:
        return self._override("overrides_released", self.overrides.release_all)

    def update_text(self, cue_id: str, text: str | None) -> TextUpdate:
        """Show ``text`` in overlay cue ``cue_id`` from the next frame (None: its own)."""
        if self.show.plan is None:
            raise ShowError("no timeline is loaded.", hint="Load a timeline first.")
        if not isinstance(cue_id, str) or not (text is None or isinstance(text, str)):
            raise ShowError("live text needs a cue id and a text (or null).",
                            hint='Give e.g. "cue_o3" and "Tide: High 4:10 PM".')
        result = self.overrides.update_text(cue_id, text)
        self._publish("text_updated", cue=cue_id, on_air=result["on_air"])
        return result

    def _override(self, event: str, action: OverrideAction) -> LiveStatus:
        overrides = action()
        self._publish(event, overrides=overrides.to_dict())
        return self.status()
