"""The show's status, as the API, the orchestrator's events and the execution log see it."""

from __future__ import annotations

from vistter.show.context import ShowContext
from vistter.show.payloads import NextCue, OverlayShown, ShowStatus, TimelineInfo

__all__ = ["show_status"]


def show_status(context: ShowContext) -> ShowStatus:
    """State, timeline, position (frame, seconds, loop iteration), video cue on air, next cue,
    overlays on air, overrides, program frame and source, armed-through mark, execution id
    and last error. Any thread."""
    show, program = context.show, context.program
    plan = show.plan
    frame = max(0, program.horizon - 1)
    position = show.position(frame)
    payload = ShowStatus(
        state=show.phase.value,
        timeline=None,
        position=None if position is None else position.to_dict(),
        video_cue=None,
        next_cue=None,
        overlays=[
            OverlayShown(track=o["layer_id"], cue=o["tag"], z=o["z"])
            for o in program.on_air()["overlays"]
            if o["start"] <= frame and (o["end"] is None or o["end"] > frame)
        ],
        overrides=show.overrides.to_dict(),
        program_frame=frame,
        source=program.source_at(frame),
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
