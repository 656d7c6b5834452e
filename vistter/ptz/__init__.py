"""Pan-tilt-zoom: move ONVIF cameras to a cue's preset before the cue (pre-roll)."""

from vistter.ptz.controller import PtzController, PtzResult
from vistter.ptz.onvif_client import (
    OnvifPtzClient,
    PtzAuthError,
    PtzClient,
    PtzError,
    PtzFaultError,
    PtzProtocolError,
    PtzTimeoutError,
    PtzTimeouts,
    PtzUnreachableError,
)

__all__ = [
    "OnvifPtzClient",
    "PtzAuthError",
    "PtzClient",
    "PtzController",
    "PtzError",
    "PtzFaultError",
    "PtzProtocolError",
    "PtzResult",
    "PtzTimeoutError",
    "PtzTimeouts",
    "PtzUnreachableError",
]
