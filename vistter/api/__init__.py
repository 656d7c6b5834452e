"""The HTTP control API: a thin Starlette app and the actor that serves it with uvicorn."""

from vistter.api.app import ApiDeps, create_app
from vistter.api.server import ApiServer, ApiStartError, PortInUseError, check_bind
from vistter.models.locators import ProblemLike

__all__ = [
    "ApiDeps",
    "ApiServer",
    "ApiStartError",
    "PortInUseError",
    "ProblemLike",
    "check_bind",
    "create_app",
]
