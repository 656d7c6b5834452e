"""Actors: every camera, track executor, encoder, fanout and destination is one of these."""

from vistter.actors.base import SupervisedActor
from vistter.actors.link import Exit, ExitReason, Link
from vistter.actors.processes import OwnedProcess, ProcessSet

__all__ = ["Exit", "ExitReason", "Link", "OwnedProcess", "ProcessSet", "SupervisedActor"]
