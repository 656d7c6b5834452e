"""Pixels and ffmpeg: raw frame formats and slots, RGB to YUV, finding ffmpeg, its stderr.

Shared by every stage of the media path; free of actors. Media *files* (stills, video
files) are sources: see :mod:`vistter.actors.sources.files`.
"""
