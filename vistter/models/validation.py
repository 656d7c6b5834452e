"""Timeline validation: every problem at once, each with a path and a hint.

:func:`validate_timeline` first checks the schema (types, ranges, formats: see
:mod:`vistter.models.timeline`), then, if that passes, the rules that relate several fields:
cue overlaps, cues past the end, duplicate ids, transitions and fades longer than their cue,
and, given the appliance configuration, cameras and asset files that do not exist.
Times are compared in program frames, so a cue boundary that rounds to the same frame
as its neighbour's is not an overlap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from vistter.errors import TimelineError
from vistter.models.config import ApplianceConfig
from vistter.models.config_checks import cue_config_problems, fallback_problems
from vistter.models.limits import (
    MAX_CUES_PER_TRACK,
    MAX_DATA_SOURCES,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_OVERLAY_TRACKS,
    MAX_PADDING,
    MAX_SCALE,
    MAX_TEXT_CHARS,
    MAX_TEXT_LINES,
    MAX_URL_CHARS,
    MIN_POLL_SECONDS,
)
from vistter.models.locators import TimelineProblem, clock, locate, problem_json
from vistter.models.overlays import (
    DynamicTextOverlay,
)
from vistter.models.problems import Problem, problems_from_validation_error
from vistter.models.timeline import (
    CameraCue,
    Cue,
    MediaCue,
    Timeline,
    TimelineDocument,
    Track,
    field_names,
)

__all__ = [
    "Problem",
    "TimelineInvalid",
    "TimelineProblem",
    "load_timeline",
    "load_timeline_file",
    "problem_json",
    "validate_timeline",
]

_FIELD_HINTS = {
    "duration": "Durations are seconds and must be more than 0, e.g. 10 or 2.5.",
    "start_time": "Start times are seconds from the start of the timeline, 0 or more.",
    "fps": "Use a whole number of frames per second from 1 to 60, e.g. 30.",
    "opacity": "Opacity goes from 0 (invisible) to 1 (solid), e.g. 0.8.",
    "fade_in": "Fade times are seconds, 0 or more.",
    "fade_out": "Fade times are seconds, 0 or more.",
    "transition_duration": "Transition lengths are seconds, 0 or more.",
    "transition": "Use cut, fade (through black) or dissolve (cross-fade).",
    "position": "Use top_left, top_right, bottom_left, bottom_right or center, or give x and y.",
    "camera_id": "Camera ids are whole numbers from the appliance configuration, e.g. 1.",
    "layer": "Layers are whole numbers from 1 (bottom) up.",
    "font_size": "Font sizes are whole numbers of pixels from 6 to 400.",
    "text": f"Overlay texts have 1 to {MAX_TEXT_CHARS} characters and at most "
    f"{MAX_TEXT_LINES} lines.",
    "subtitle": f"Subtitles have 1 to {MAX_TEXT_CHARS} characters and at most "
    f"{MAX_TEXT_LINES} lines.",
    "cues": f"A track has at most {MAX_CUES_PER_TRACK} cues; split a long show into "
    "timelines.",
    "overlays": f"A timeline has at most {MAX_OVERLAY_TRACKS} overlay tracks.",
    "name": f"Names have 1 to {MAX_NAME_CHARS} characters.",
    "description": f"Descriptions have at most {MAX_DESCRIPTION_CHARS} characters.",
    "padding": f"Padding is a whole number of pixels from 0 to {MAX_PADDING}.",
    "scale": f"Scale is a factor more than 0 and at most {MAX_SCALE}, e.g. 0.5 or 2.",
    "poll_interval": f"Poll intervals are {MIN_POLL_SECONDS} to 86400 seconds, e.g. 30.",
    "url": f"Use an https address of at most {MAX_URL_CHARS} characters.",
}


class TimelineInvalid(TimelineError):  # noqa: N818 - the name the API contract uses
    """A timeline does not pass validation; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listing = "; ".join(str(p.path or "(document)") + ": " + p.message for p in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        hints = " ".join(dict.fromkeys(p.hint for p in problems if p.hint))
        super().__init__(f"the timeline has {count}: {listing}.", hint=hints)


def validate_timeline(data: object, config: ApplianceConfig | None = None) -> list[Problem]:
    """Every problem with the timeline document ``data`` (parsed JSON); ``[]`` means valid.

    With ``config`` the cameras and asset files are checked too. Never raises for bad input.
    Each problem is a :class:`TimelineProblem`: it also names the cue and track it concerns.
    """
    try:
        document = TimelineDocument.model_validate(data)
    except ValidationError as error:
        problems = problems_from_validation_error(
            error, data, field_hints=_FIELD_HINTS, vocabulary=field_names()
        )
    else:
        problems = _semantic_problems(document.timeline, config)
    return [locate(problem, data) for problem in problems]


def load_timeline(data: object, config: ApplianceConfig | None = None) -> TimelineDocument:
    """The validated timeline document; raises :class:`TimelineInvalid` listing all problems."""
    problems = validate_timeline(data, config)
    if problems:
        raise TimelineInvalid(problems)
    return TimelineDocument.model_validate(data)


def load_timeline_file(path: Path, config: ApplianceConfig | None = None) -> TimelineDocument:
    """Read, parse and validate a timeline JSON file.

    Raises :class:`~vistter.errors.TimelineError` when the file cannot be read or is not
    JSON (with line and column), and :class:`TimelineInvalid` when it does not validate.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TimelineError(
            f"the timeline file {path} does not exist.", hint="Check the path and file name."
        ) from None
    except UnicodeDecodeError:
        raise TimelineError(
            f"the timeline file {path} is not UTF-8 text.", hint="Save it as UTF-8 JSON."
        ) from None
    except OSError as error:
        raise TimelineError(
            f"cannot read the timeline file {path}: {error.strerror}.",
            hint="Check that the path is a readable file.",
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TimelineError(
            f"the timeline file {path} is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}.",
            hint="Fix the JSON there (a missing comma or quote, or a trailing comma).",
        ) from None
    return load_timeline(data, config)


# -- semantic checks -------------------------------------------------------------------------


def _track_paths(timeline: Timeline) -> Iterator[tuple[str, Track]]:
    yield "timeline.tracks.video", timeline.tracks.video
    for index, track in enumerate(timeline.tracks.overlays):
        yield f"timeline.tracks.overlays[{index}]", track


def _semantic_problems(timeline: Timeline, config: ApplianceConfig | None) -> list[Problem]:
    problems = [*_id_problems(timeline), *_data_source_problems(timeline)]
    for track_path, track in _track_paths(timeline):
        problems.extend(_timing_problems(timeline, track_path, track))
        for index, cue in enumerate(track.cues):
            cue_path = f"{track_path}.cues[{index}]"
            problems.extend(_cue_problems(timeline, cue_path, cue))
            if config is not None:
                problems.extend(cue_config_problems(config, cue_path, cue))
    if config is not None:
        problems.extend(fallback_problems(timeline, config))
    return problems


def _id_problems(timeline: Timeline) -> Iterator[Problem]:
    track_ids: set[str] = set()
    cue_ids: set[str] = set()
    layers: dict[int, str] = {}
    for track_path, track in _track_paths(timeline):
        if track.track_id in track_ids:
            yield Problem(
                f"{track_path}.track_id",
                f"track id '{track.track_id}' is used twice",
                "Give every track its own track_id.",
            )
        track_ids.add(track.track_id)
        if track.type == "overlay":
            if track.layer in layers:
                yield Problem(
                    f"{track_path}.layer",
                    f"layer {track.layer} is already used by track '{layers[track.layer]}'",
                    "Give every overlay track its own layer (1 = bottom, higher = on top).",
                )
            layers.setdefault(track.layer, track.track_id)
        for index, cue in enumerate(track.cues):
            if cue.id in cue_ids:
                yield Problem(
                    f"{track_path}.cues[{index}].id",
                    f"cue id '{cue.id}' is used twice",
                    "Give every cue in the timeline its own id.",
                )
            cue_ids.add(cue.id)


def _seconds(value: float) -> str:
    return f"{round(value, 3):g} s"


def _track_words(track: Track) -> str:
    return "the video track" if track.type == "video" else f"overlay track '{track.track_id}'"


def _timing_problems(timeline: Timeline, track_path: str, track: Track) -> Iterator[Problem]:
    end_frame, fps = timeline.total_frames, timeline.fps
    ordered = sorted(enumerate(track.cues), key=lambda item: (item[1].start_time, item[0]))
    previous: Cue | None = None
    for index, cue in ordered:
        path = f"{track_path}.cues[{index}]"
        first, end = timeline.cue_frames(cue)
        if first >= end_frame:
            yield Problem(
                f"{path}.start_time",
                f"cue '{cue.id}' starts at {clock(cue.start_time)}, at or after the end of "
                f"the timeline ({clock(timeline.duration)})",
                f"Move cue '{cue.id}' to start before {clock(timeline.duration)}, or make the "
                "timeline's duration longer.",
            )
        elif end > end_frame:
            yield Problem(
                f"{path}.duration",
                f"cue '{cue.id}' ends at {clock(cue.end_time)}, after the end of the "
                f"timeline ({clock(timeline.duration)})",
                f"Shorten cue '{cue.id}' to at most {_seconds(timeline.duration - cue.start_time)}"
                f" (to end at {clock(timeline.duration)}), or make the timeline's duration "
                "longer.",
            )
        if end <= first:
            yield Problem(
                f"{path}.duration",
                f"cue '{cue.id}' lasts less than one frame at {fps} fps",
                f"Make it at least {_seconds(1 / fps)} long.",
            )
        if previous is not None and first < (previous_end := timeline.frame_of(previous.end_time)):
            overlap = (min(end, previous_end) - first) / fps
            yield Problem(
                f"{path}.start_time",
                f"cue '{cue.id}' overlaps cue '{previous.id}' by {_seconds(overlap)} on "
                f"{_track_words(track)}: move it to {clock(previous.end_time)} or shorten cue "
                f"'{previous.id}' (it starts at {clock(cue.start_time)}, before cue "
                f"'{previous.id}' ends at {clock(previous.end_time)})",
                f"Start cue '{cue.id}' at {clock(previous.end_time)} or later, or make cue "
                f"'{previous.id}' end by {clock(cue.start_time)}; cues on one track play one "
                "after another.",
            )
        if previous is None or cue.end_time > previous.end_time:
            previous = cue


def _cue_problems(timeline: Timeline, path: str, cue: Cue) -> Iterator[Problem]:
    if isinstance(cue, CameraCue | MediaCue):
        params = cue.params
        explicit = params.transition_duration is not None
        if params.transition == "cut" and params.transition_seconds > 0:
            yield Problem(
                f"{path}.params.transition_duration",
                f"cue '{cue.id}' starts with a cut, and a cut has no duration",
                f"Remove transition_duration from cue '{cue.id}', or use fade or dissolve.",
            )
        elif params.transition_seconds > cue.duration:
            what = "is" if explicit else "is by default"
            yield Problem(
                f"{path}.params." + ("transition_duration" if explicit else "transition"),
                f"the {params.transition} {what} {_seconds(params.transition_seconds)}, longer "
                f"than cue '{cue.id}' ({_seconds(cue.duration)})",
                f"Set transition_duration to at most {_seconds(cue.duration)}, "
                "or lengthen the cue.",
            )
        return
    overlay = cue.params
    fades = overlay.fade_in + overlay.fade_out
    if fades > cue.duration:
        field = "fade_out" if "fade_out" in overlay.model_fields_set else "fade_in"
        yield Problem(
            f"{path}.params.{field}",
            f"fade_in + fade_out is {_seconds(fades)}, longer than cue '{cue.id}' "
            f"({_seconds(cue.duration)})",
            "Shorten the fades so that together they fit in the cue, or lengthen the cue.",
        )
    if overlay.x is not None and overlay.x >= timeline.width:
        yield Problem(
            f"{path}.params.x",
            f"cue '{cue.id}' is placed at x {overlay.x}, outside the {timeline.width} px "
            "wide picture",
            f"Use an x from 0 to {timeline.width - 1}.",
        )
    if overlay.y is not None and overlay.y >= timeline.height:
        yield Problem(
            f"{path}.params.y",
            f"cue '{cue.id}' is placed at y {overlay.y}, outside the {timeline.height} px "
            "high picture",
            f"Use a y from 0 to {timeline.height - 1}.",
        )


def _data_source_problems(timeline: Timeline) -> Iterator[Problem]:
    """More different data sources than :data:`MAX_DATA_SOURCES` (one poller thread each)."""
    seen: set[tuple[str | None, str | None, str | None]] = set()  # one poller for each
    for track_path, track in _track_paths(timeline):
        for index, cue in enumerate(track.cues):
            params = cue.params
            if not isinstance(params, DynamicTextOverlay) or params.source is None:
                continue
            seen.add((params.source.path, params.source.url, params.source.key))
            if len(seen) > MAX_DATA_SOURCES:
                yield Problem(
                    f"{track_path}.cues[{index}].params.source",
                    f"the timeline reads more than {MAX_DATA_SOURCES} different data sources "
                    "(a source is its path or url with its key)",
                    f"Use at most {MAX_DATA_SOURCES}; cues with the same source share one.",
                )
                return
