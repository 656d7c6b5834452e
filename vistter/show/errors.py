"""Typed errors of the show engine: what is wrong and what the operator can do instead."""

from __future__ import annotations

from vistter.errors import OperatorError

__all__ = ["ShowError", "ShowStateError"]


class ShowError(OperatorError):
    """A show operation cannot be done as asked (no timeline, unknown cue, bad position)."""


class ShowStateError(ShowError):
    """The orchestrator's state does not allow this operation now; the hint says what does."""

    http_status = 409
