"""The show's status, as the API, the orchestrator's events and the execution log see it."""

from __future__ import annotations

from typing import Protocol

from vistter.models.overlays import DynamicTextOverlay, LowerThirdOverlay, TextOverlay
from vistter.models.timeline import CameraCue, MediaCue
from vistter.show.context import ShowContext
from vistter.show.payloads import CueInfo, NextCue, OverlayShown, ShowStatus, TimelineInfo
from vistter.show.plan import CueSpan, ShowPlan

__all__ = ["LiveTexts", "cue_list", "show_status"]


class LiveTexts(Protocol):
    """Where the operator's live overlay texts are kept (the show state)."""

    def text_for(self, cue_id: str) -> str | None: ...


def show_status(context: ShowContext) -> ShowStatus:
    """State, timeline, position (frame, seconds, loop iteration), video cue on air, next cue,
    every cue of the timeline, overlays on air (with the seconds they have left), overrides,
    program frame, the source on air (after the fallback) and the scheduled one with the frame
    its take took effect on, armed-through mark, execution id and last error. Any thread."""
    show, program = context.show, context.program
    plan = show.plan
    frame, take = program.take_on_air()
    fps = program.fmt.fps
    scheduled = program.source_at(frame)
    on_air = context.on_air
    source = scheduled if on_air is None or scheduled is None else on_air(scheduled)
    position = show.position(frame)
    payload = ShowStatus(
        state=show.phase.value,
        timeline=None,
        position=None if position is None else position.to_dict(),
        video_cue=None,
        next_cue=None,
        cues=[] if plan is None else cue_list(plan, show),
        overlays=[
            OverlayShown(track=o["layer_id"], cue=o["tag"], z=o["z"],
                         left_seconds=None if o["end"] is None else (o["end"] - frame) / fps)
            for o in program.on_air()["overlays"]
            if o["start"] <= frame and (o["end"] is None or o["end"] > frame)
        ],
        overrides=show.overrides.to_dict(),
        program_frame=frame,
        source=source,
        scheduled_source=scheduled,
        take_frame=None if take is None else take.at_frame,
        armed_through=show.armed_through(),
        execution_id=show.execution_id,
        error=show.last_error,
    )
    if plan is not None:
        timeline = plan.timeline
        payload["timeline"] = TimelineInfo(
            id=timeline.id, name=timeline.name, db_id=show.timeline_db_id,
            duration=timeline.duration, loop=plan.loop, tracks=list(plan.track_ids),
        )
    if plan is not None and position is not None and not position.ended:
        span = plan.span_at(plan.video_track_id, position.frame)
        payload["video_cue"] = None if span is None else span.cue_id
        following = plan.next_video(position.show_frame)
        if following is not None:
            ahead = (following.start - position.frame) % plan.length or plan.length
            payload["next_cue"] = NextCue(id=following.cue_id,
                                          start_seconds=following.start / plan.fps,
                                          in_seconds=ahead / plan.fps)
    return payload


def cue_list(plan: ShowPlan, show: LiveTexts) -> list[CueInfo]:
    """Every cue of ``plan``, video track first, each track in start order. Any thread."""
    return [
        _cue_info(span, plan.fps, show)
        for track_id in plan.track_ids
        for span in plan.spans(track_id)
    ]


def _cue_info(span: CueSpan, fps: int, show: LiveTexts) -> CueInfo:
    cue = span.cue
    text: str | None = None
    if isinstance(cue, CameraCue):
        label = f"Camera {cue.params.camera_id}"
        if cue.params.preset_id is not None:
            label += f" ({cue.params.preset_id})"
    elif isinstance(cue, MediaCue):
        label = cue.params.media_url.rsplit("/", 1)[-1]
    else:
        params = cue.params
        label = params.type.replace("_", " ")
        if isinstance(params, TextOverlay | LowerThirdOverlay):
            text = show.text_for(cue.id) or params.text
        elif isinstance(params, DynamicTextOverlay):
            text = show.text_for(cue.id) or params.template
    return CueInfo(id=cue.id, track=span.track_id, action=cue.action,
                   start_seconds=span.start / fps, end_seconds=span.end / fps,
                   label=label, text=text)
