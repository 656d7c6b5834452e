"""Typed errors an operator can act on.

Every error that can reach a person carries two parts: *what* is wrong and *how to fix it*.
Errors derived from :class:`OperatorError` are *expected*: an actor that raises one from a
message handler hands it back to the caller and keeps running. Any other exception in an
actor is a bug and crashes the actor, so that its supervisor restarts it.
"""

from __future__ import annotations


class VistterError(Exception):
    """Base of every error Vistter raises on purpose."""

    def __init__(self, problem: str, *, hint: str = "") -> None:
        self.problem = problem
        self.hint = hint
        super().__init__(f"{problem} {hint}".strip() if hint else problem)

    def to_dict(self) -> dict[str, str]:
        """The error as the API and the telemetry bus show it."""
        return {"error": type(self).__name__, "problem": self.problem, "hint": self.hint}


class OperatorError(VistterError):
    """An expected failure caused by input or by the world, not by a bug.

    Raised from an actor's message handler it is returned to the caller; the actor lives on.
    """


class ConfigError(OperatorError):
    """The appliance configuration is missing, malformed or inconsistent."""


class TimelineError(OperatorError):
    """A timeline cannot be loaded or does not pass validation."""


class UnknownChildError(OperatorError):
    """A supervisor was asked for a child id it does not have."""


class SupervisionError(OperatorError):
    """A supervisor was asked for something its children's state does not allow."""


class ChildStartError(SupervisionError):
    """A child could not be started by its supervisor."""


class BindRefusedError(ConfigError):
    """The control API was asked to listen beyond loopback without a token."""
