"""Worker threads: a thread an actor runs beside its message loop, and what its death means.

Actors keep slow or blocking work off their message loop in daemon *worker* threads: a
frame reader, an encoder's stdin writer, the mixer's clock loop, a destination's feed
threads. A worker that ends with an unexpected exception is a bug, and a dead worker must
never go unnoticed: it is reported to its actor (``worker_died(worker, cause)``, see
:class:`~vistter.supervisors.actor.SupervisedActor`), whose message loop then raises
:class:`WorkerDiedError`, so the actor crashes and its supervisor restarts it.

:func:`run_worker` is the guard every worker body runs under; objects that own worker
threads for an actor (a feed, a reader, a probe) take a :data:`WorkerDeathCallback` and
hand it the worker's name and the exception.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from vistter.errors import VistterError

__all__ = [
    "WorkerDeathCallback",
    "WorkerDied",
    "WorkerDiedError",
    "run_worker",
    "start_worker",
]

logger = logging.getLogger(__name__)

WorkerDeathCallback = Callable[[str, BaseException], None]
"""Called as ``(worker, cause)`` in the dying worker's thread; it should only post a message
to the owning actor (``SupervisedActor.worker_died`` does exactly that)."""


class WorkerDiedError(VistterError):
    """A worker thread of an actor died of an unexpected error (a bug).

    Raised in the actor's own thread, it crashes the actor, so its supervisor restarts it.
    Not an :class:`~vistter.errors.OperatorError` on purpose.
    """

    def __init__(self, worker: str, cause: BaseException, *, owner: str) -> None:
        self.worker = worker
        self.cause = cause
        self.owner = owner
        super().__init__(
            f"the {worker} thread of {owner} died: {type(cause).__name__}: {cause}",
            hint=f"This is a bug; the supervisor restarts {owner}. Please report it with the "
            "log above.",
        )
        self.__cause__ = cause


@dataclass(frozen=True)
class WorkerDied:
    """Posted to an actor when one of its worker threads died. The
    :class:`~vistter.supervisors.actor.SupervisedActor` message loop handles it before any
    subclass sees it: it raises :class:`WorkerDiedError` there."""

    worker: str
    cause: BaseException


def _never(_: BaseException) -> bool:
    return False


def run_worker(
    worker: str,
    body: Callable[[], None],
    on_death: WorkerDeathCallback,
    *,
    owner: str,
    ended_normally: Callable[[BaseException], bool] = _never,
) -> None:
    """Run a worker's ``body`` in the calling thread.

    If it raises, the exception is logged and handed to ``on_death(worker, exception)``,
    unless ``ended_normally(exception)`` says it is the expected end of the worker (say, a
    stream closed under it by a stop). ``owner`` names the actor (or object) in the log.
    Never raises.
    """
    try:
        body()
    except BaseException as exc:
        if ended_normally(exc):
            return
        logger.exception("%s: the %s thread died", owner, worker)
        on_death(worker, exc)


def start_worker(
    worker: str,
    body: Callable[[], None],
    on_death: WorkerDeathCallback,
    *,
    owner: str,
    thread_name: str,
    ended_normally: Callable[[BaseException], bool] = _never,
) -> threading.Thread:
    """Start a daemon thread named ``thread_name`` that runs ``body`` under
    :func:`run_worker`; returns it (started)."""
    thread = threading.Thread(
        target=run_worker,
        args=(worker, body, on_death),
        kwargs={"owner": owner, "ended_normally": ended_normally},
        name=thread_name,
        daemon=True,
    )
    thread.start()
    return thread
