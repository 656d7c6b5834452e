"""How degraded mode changes the running encode: ``EncoderActor.reconfigure``.

:class:`EncoderControl` is what the degraded-mode actor needs of the encoder; production uses
:class:`ProxyEncoderControl`, which finds the running encoder actor at each call (a restarted
encoder is a new actor) and calls ``reconfigure(overrides)`` through its proxy: a planned
handover to a new ffmpeg at a frame boundary that the destinations see as one continuous
stream (see :mod:`vistter.actors.encoder.overrides`). Tests give a fake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pykka

from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.errors import VistterError

__all__ = ["EncoderControl", "EncoderUnavailableError", "ProxyEncoderControl"]


class EncoderUnavailableError(VistterError):
    """The encoder could not take the new encode now (restarting, busy, or too old)."""


class EncoderControl(Protocol):
    def encoder_id(self) -> object:
        """Something that changes when the encoder actor is replaced (a restart)."""

    def reconfigure(self, overrides: EncodeOverrides) -> None:
        """Apply ``overrides`` (the encoder hands over to the new encode at a frame
        boundary). Raises
        :class:`EncoderUnavailableError` when it could not be applied now."""


class ProxyEncoderControl:
    """Calls the running encoder actor's ``reconfigure`` (see the module doc).

    ``resolve`` returns the encoder's actor ref now (None: not running); it and the call run
    in the caller's thread (the degraded-mode actor's), which waits up to ``timeout`` (less
    than the supervisors' 15 s heartbeat, so a slow encoder never makes this actor look hung).
    """

    def __init__(self, resolve: Callable[[], pykka.ActorRef[Any] | None], *,
                 timeout: float = 10.0) -> None:
        self._resolve = resolve
        self.timeout = timeout

    def encoder_id(self) -> object:
        ref = self._resolve()
        return None if ref is None else ref.actor_urn

    def reconfigure(self, overrides: EncodeOverrides) -> None:
        ref = self._resolve()
        if ref is None:
            raise EncoderUnavailableError("the encoder is not running (it may be restarting)",
                                          hint="Degraded mode applies the step when it is back.")
        try:
            proxy = ref.proxy()
            if not hasattr(proxy, "reconfigure"):
                raise EncoderUnavailableError(
                    "this encoder cannot change its encode while running (no reconfigure)",
                    hint="Update Vistter; until then degraded mode only changes the overlays.")
            proxy.reconfigure(overrides).get(timeout=self.timeout)
        except OSError as error:  # the new ffmpeg could not start; the encode goes on
            raise EncoderUnavailableError(
                f"the encoder could not start the new encode ({overrides.describe()}): {error}",
                hint="Degraded mode tries again later; the stream goes on as it was.") from error
        except (pykka.ActorDeadError, pykka.Timeout) as error:
            raise EncoderUnavailableError(
                f"the encoder did not take the new encode ({overrides.describe()}): "
                f"{type(error).__name__}",
                hint="Degraded mode tries again at its next check.") from error
