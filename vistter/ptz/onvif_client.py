"""A blocking, bounded ONVIF PTZ client over ``onvif-zeep-async``.

``onvif-zeep-async`` (the ONVIF library Home Assistant uses) is asyncio-only. Each
:class:`OnvifPtzClient` runs it on a private event loop in its own daemon thread; the public
methods are blocking and called from the caller's thread (a track executor actor). Every
call is bounded: connecting by ``connect_timeout``, each request by ``request_timeout``.
A camera that does not answer, refuses, or answers with a SOAP fault raises a
:class:`PtzError` subclass whose message says what went wrong and how to fix it.

The library ships its WSDL files and loads them from disk only (it refuses remote schema
loads), so nothing is downloaded at run time. WS-Security uses the password *digest*: the
password never travels in clear text, and it is never logged or put into an error.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import aiohttp

from vistter.errors import OperatorError
from vistter.models.cameras import PtzConfig

# onvif.client calls logging.basicConfig() on import, which would install a root handler
# for the whole appliance when no handler exists yet; a placeholder handler makes it a no-op.
_root_logger = logging.getLogger()
_import_guard = logging.NullHandler()
_root_logger.addHandler(_import_guard)
try:
    from onvif import ONVIFCamera, ONVIFService  # type: ignore[import-untyped]
    from onvif.exceptions import ONVIFError  # type: ignore[import-untyped]
    from zeep.exceptions import Error as ZeepError
    from zeep.exceptions import Fault
finally:
    _root_logger.removeHandler(_import_guard)

__all__ = [
    "OnvifPtzClient",
    "PtzAuthError",
    "PtzClient",
    "PtzError",
    "PtzFaultError",
    "PtzProtocolError",
    "PtzTimeoutError",
    "PtzTimeouts",
    "PtzUnreachableError",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_GRACE = 1.0
"""Extra seconds the calling thread waits for the loop thread beyond a request's own bound."""
_CLOSE_TIMEOUT = 3.0
_NOT_AUTHORIZED = "NotAuthorized"


class PtzError(OperatorError):
    """A PTZ camera did not do what it was asked (expected: the world, not a bug)."""


class PtzTimeoutError(PtzError):
    """The camera did not answer within the bound."""

    def __init__(self, problem: str, *, seconds: float, hint: str = "") -> None:
        super().__init__(problem, hint=hint)
        self.seconds = seconds


class PtzUnreachableError(PtzError):
    """The camera's ONVIF endpoint could not be reached (refused, reset, no route)."""


class PtzFaultError(PtzError):
    """The camera answered with a SOAP fault; ``fault`` is the camera's own text."""

    def __init__(self, problem: str, *, fault: str, hint: str = "") -> None:
        super().__init__(problem, hint=hint)
        self.fault = fault


class PtzAuthError(PtzFaultError):
    """The camera refused the ONVIF user name or password."""


class PtzProtocolError(PtzError):
    """The camera answered, but not with something usable (e.g. no profile with PTZ)."""


@dataclass(frozen=True)
class PtzTimeouts:
    """Bounds, in seconds: ``connect`` for discovery plus profiles, ``request`` per call."""

    connect: float = 3.0
    request: float = 3.0


class PtzClient(Protocol):
    """What :class:`~vistter.ptz.controller.PtzController` needs from a PTZ camera.

    Every method blocks the calling thread for at most its timeout and raises
    :class:`PtzError` for anything the camera does (or does not do).
    """

    def connect(self) -> None: ...

    def get_presets(self) -> dict[str, str]: ...

    def goto_preset(self, preset_token: str) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class OnvifPtzClient:
    """One ONVIF camera's PTZ service, driven from blocking code.

    Thread-safety: methods may be called from any thread, one call at a time (a lock
    serialises them); :meth:`close` may be called from another thread while a call is in
    flight and makes that call fail with :class:`PtzUnreachableError` or time out.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        *,
        timeouts: PtzTimeouts | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.timeouts = timeouts or PtzTimeouts()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._camera: ONVIFCamera | None = None
        self._ptz: ONVIFService | None = None
        self._profile_token: str | None = None

    @classmethod
    def from_config(cls, config: PtzConfig, timeouts: PtzTimeouts) -> OnvifPtzClient:
        """The client for a camera's ``ptz`` section (the default controller factory)."""
        password = None if config.password is None else config.password.get_secret_value()
        return cls(config.host, config.port, config.username, password, timeouts=timeouts)

    def __repr__(self) -> str:
        return f"OnvifPtzClient({self.host}:{self.port}, user={self.username!r})"

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def profile_token(self) -> str:
        """The media profile the PTZ commands address; raises before :meth:`connect`."""
        if self._profile_token is None:
            raise PtzProtocolError(
                f"PTZ at {self.endpoint} is not connected", hint="Call connect() first."
            )
        return self._profile_token

    # -- public blocking API -----------------------------------------------------------

    def connect(self) -> None:
        """Discover the camera's services and pick the first media profile that has PTZ.

        Runs in the calling thread (blocks at most ``timeouts.connect`` plus a short grace).
        Raises :class:`PtzError`; a second call on a connected client does nothing.
        """
        with self._lock:
            if self._ptz is not None:
                return
            self._start_loop()
            self._run(self._connect(), self.timeouts.connect, "connect")

    def get_presets(self) -> dict[str, str]:
        """The camera's presets, token -> name (blocks at most ``timeouts.request``)."""
        with self._lock:
            ptz = self._require_ptz()
            request = {"ProfileToken": self.profile_token}
            presets = self._run(ptz.GetPresets(request), self.timeouts.request, "GetPresets")
        result: dict[str, str] = {}
        for preset in presets or []:
            token = getattr(preset, "token", None)
            if token:
                result[str(token)] = str(getattr(preset, "Name", None) or "")
        return result

    def goto_preset(self, preset_token: str) -> None:
        """Ask the camera to move to ``preset_token``; returns once the camera accepted it.

        ONVIF's GotoPreset answers when the move *starts*: the caller waits for it to settle.
        """
        with self._lock:
            ptz = self._require_ptz()
            request = {"ProfileToken": self.profile_token, "PresetToken": preset_token}
            self._run(ptz.GotoPreset(request), self.timeouts.request, "GotoPreset")

    def stop(self) -> None:
        """Stop any pan/tilt/zoom movement in progress."""
        with self._lock:
            ptz = self._require_ptz()
            request = {"ProfileToken": self.profile_token, "PanTilt": True, "Zoom": True}
            self._run(ptz.Stop(request), self.timeouts.request, "Stop")

    def close(self) -> None:
        """Close the HTTP sessions, stop the loop and join its thread. Idempotent; never raises.

        Runs in the calling thread and waits at most a few seconds for the loop thread.
        """
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                future.result(_CLOSE_TIMEOUT)
            except Exception:
                logger.warning("PTZ client %s did not close cleanly", self.endpoint, exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(_CLOSE_TIMEOUT)
        if thread.is_alive():
            logger.warning("PTZ client %s loop thread did not stop", self.endpoint)
            return
        loop.close()
        self._loop = self._thread = None
        self._camera = self._ptz = None
        self._profile_token = None

    def __enter__(self) -> OnvifPtzClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- loop thread -------------------------------------------------------------------

    def _start_loop(self) -> None:
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=loop.run_forever, name=f"vistter-ptz-{self.endpoint}", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread

    def _require_ptz(self) -> ONVIFService:
        if self._ptz is None:
            raise PtzProtocolError(
                f"PTZ at {self.endpoint} is not connected", hint="Call connect() first."
            )
        return self._ptz

    def _run(self, work: Coroutine[Any, Any, _T], seconds: float, what: str) -> _T:
        """Run ``work`` on the loop thread, bounded by ``seconds``; map failures to PtzError.

        Runs in the calling thread, which blocks until the result or the bound.
        """
        loop = self._loop
        if loop is None or not loop.is_running():
            work.close()
            raise PtzUnreachableError(
                f"PTZ client for {self.endpoint} is closed", hint="Create a new client."
            )
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(work, seconds), loop)
        try:
            return future.result(seconds + _GRACE)
        except (TimeoutError, concurrent.futures.TimeoutError) as exc:
            future.cancel()
            raise self._timeout(what, seconds) from exc
        except concurrent.futures.CancelledError as exc:
            raise PtzUnreachableError(
                f"PTZ {what} at {self.endpoint} was cancelled because the client closed"
            ) from exc
        except Fault as exc:
            raise self._fault(what, exc) from exc
        except (ONVIFError, ZeepError, aiohttp.ClientError, OSError) as exc:
            cause = exc.__cause__ if isinstance(exc, ONVIFError) and exc.__cause__ else exc
            if isinstance(cause, Fault):
                raise self._fault(what, cause) from exc
            if isinstance(cause, TimeoutError):
                raise self._timeout(what, seconds) from exc
            raise PtzUnreachableError(
                f"PTZ {what} at {self.endpoint} failed: {_describe(cause)}",
                hint="Check that the camera is powered, on the network, and that ptz.host and "
                "ptz.port point at its ONVIF service.",
            ) from exc

    def _timeout(self, what: str, seconds: float) -> PtzTimeoutError:
        return PtzTimeoutError(
            f"PTZ {what} at {self.endpoint} did not answer within {seconds:g} s",
            seconds=seconds,
            hint="Check that the camera is reachable and that ptz.host and ptz.port point at "
            "its ONVIF service.",
        )

    def _fault(self, what: str, fault: Any) -> PtzFaultError:
        text = str(getattr(fault, "message", None) or fault)
        subcodes = " ".join(str(code) for code in (getattr(fault, "subcodes", None) or []))
        if _NOT_AUTHORIZED in subcodes or "not authorized" in text.lower():
            return PtzAuthError(
                f"PTZ {what} at {self.endpoint} refused the credentials of user "
                f"{self.username!r}: {text}",
                fault=text,
                hint="Check ptz.username and ptz.password (or VISTTER_CAMERA_<ID>_PTZ_PASSWORD), "
                "and that the camera's clock is roughly right (ONVIF digests are time-stamped).",
            )
        return PtzFaultError(
            f"PTZ {what} at {self.endpoint} answered with a fault: {text}",
            fault=text,
            hint="Check the preset tokens under ptz.presets against the camera's own presets.",
        )

    # -- coroutines (run on the loop thread) ---------------------------------------------

    async def _connect(self) -> None:
        if self._camera is not None:  # a previous connect failed half-way
            camera, self._camera = self._camera, None
            await camera.close()
        # The library always signs requests; a camera without auth ignores an empty token
        # (and zeep cannot build one from None).
        camera = ONVIFCamera(
            self.host, self.port, self.username or "", self._password or "", no_cache=True
        )
        self._camera = camera
        await camera.update_xaddrs()
        media = await camera.create_media_service()
        profiles = await media.GetProfiles()
        token = _first_ptz_profile(profiles)
        if token is None:
            raise PtzProtocolError(
                f"the camera at {self.endpoint} has no media profile with PTZ",
                hint="Enable PTZ on a media profile in the camera's settings, or remove the "
                "camera's ptz section.",
            )
        ptz = await camera.create_ptz_service()
        self._profile_token = token
        self._ptz = ptz

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        camera, self._camera, self._ptz = self._camera, None, None
        if camera is not None:
            await camera.close()
        loop = asyncio.get_running_loop()
        await loop.shutdown_asyncgens()
        await loop.shutdown_default_executor()


def _first_ptz_profile(profiles: Any) -> str | None:
    for profile in profiles or []:
        if getattr(profile, "PTZConfiguration", None) is not None:
            token = getattr(profile, "token", None)
            if token:
                return str(token)
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
