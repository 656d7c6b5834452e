"""An asyncio event loop on its own daemon thread, driven from other threads.

The fault proxy does all its I/O on one event loop; tests and the command line switch its
faults from their own threads. :class:`LoopThread` owns that loop and its thread: callers
hand it coroutine factories with :meth:`LoopThread.submit`, which runs them on the loop
(``asyncio.run_coroutine_threadsafe``) and waits, bounded by ``control_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from chaos.stats import ProxyError

__all__ = ["LoopThread"]

_T = TypeVar("_T")


class LoopThread:
    """A daemon thread running a fresh event loop until :meth:`stop`.

    :meth:`submit` and :meth:`stop` may be called from any thread but the loop's own; the
    caller serialises them (the proxy holds its lock). Errors are :class:`ProxyError`.
    """

    def __init__(self, name: str, control_timeout_s: float) -> None:
        self.control_timeout_s = control_timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        """Run the coroutine ``make()`` on the loop and wait for its result (or exception).

        Raises :class:`ProxyError` when called from the loop's own thread (it would wait
        for itself) or when the loop does not answer within ``control_timeout_s``.
        """
        if threading.get_ident() == self._thread.ident:
            raise ProxyError(
                "A fault proxy method was called from the proxy's own event-loop thread.",
                hint="Call it from another thread; the call waits for the loop.",
            )
        future = asyncio.run_coroutine_threadsafe(make(), self._loop)
        try:
            return future.result(self.control_timeout_s)
        except TimeoutError:
            future.cancel()
            raise ProxyError(
                f"The fault proxy's loop did not answer within {self.control_timeout_s} s.",
                hint="The loop thread is stuck or gone; close the proxy and start a new one.",
            ) from None

    def stop(self) -> None:
        """Stop the loop and join its thread (up to ``control_timeout_s``); the loop is then
        closed. Raises :class:`ProxyError` if the thread does not end in time."""
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self.control_timeout_s)
        if self._thread.is_alive():
            raise ProxyError(
                f"The fault proxy's loop thread did not stop within {self.control_timeout_s} s.",
                hint="It is a daemon thread and dies with the process; report this as a bug.",
            )

    def _run(self) -> None:
        """Body of the loop thread; runs until :meth:`stop` stops the loop."""
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()
