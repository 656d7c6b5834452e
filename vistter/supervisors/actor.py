"""The actor base class: a Pykka threading actor that reports every way it dies.

Pykka tells nobody when an actor dies. :class:`SupervisedActor` closes that gap: whatever
ends it (a normal stop, a shutdown by its supervisor, an exception in a tell or an ask
handler, an exception in :meth:`setup`, or a hang detected by its supervisor's heartbeat),
it ends its OS processes and reports an :class:`~vistter.supervisors.link.Exit` through its
:class:`~vistter.supervisors.link.Link` exactly once.

Subclasses implement :meth:`setup` and :meth:`teardown` instead of Pykka's ``on_start``,
``on_stop`` and ``on_failure``, which are final here.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, final

import pykka
from pykka import ActorRegistry
from pykka._envelope import Envelope  # private: needed to wake an idle loop

from vistter.clock import Timer
from vistter.errors import OperatorError
from vistter.supervisors.link import Exit, ExitReason, Link
from vistter.supervisors.processes import ProcessSet
from vistter.supervisors.worker import WorkerDied, WorkerDiedError, start_worker

logger = logging.getLogger(__name__)


class Heartbeat:
    """The supervisor's liveness probe. Answered by the actor loop itself."""


class SupervisedActor(pykka.ThreadingActor):
    """Base of every Vistter actor.

    Error policy for message handlers (running in the actor's thread):

    * an :class:`~vistter.errors.OperatorError` (expected failure) goes back to the asker,
      or is logged for a tell; the actor keeps running;
    * any other exception crashes the actor: the asker gets the exception, the actor's
      processes are ended and its supervisor is told (reason ``crash``);
    * a :class:`~vistter.supervisors.worker.WorkerDied` (posted by :meth:`worker_died`)
      crashes the actor with :class:`~vistter.supervisors.worker.WorkerDiedError`.
    """

    def __init__(self, link: Link | None = None) -> None:
        super().__init__()
        self.link = link if link is not None else Link(f"unsupervised/{type(self).__name__}")
        self.link.attach_killer(self._kill_from_outside)
        self._death_lock = threading.Lock()
        self._dead = False

    # -- for subclasses ----------------------------------------------------------------

    @property
    def processes(self) -> ProcessSet:
        """The OS processes this actor owns; ended by PID whenever the actor ends."""
        return self.link.processes

    def post(self, message: object) -> None:
        """Post ``message`` to this actor from any thread (a reader thread, a clock timer);
        dropped when the actor is gone. Never blocks, never raises."""
        with contextlib.suppress(pykka.ActorDeadError):
            self.actor_ref.tell(message)

    def post_later(self, delay: float, message: object) -> Timer:
        """Post ``message`` to this actor ``delay`` seconds from now on the link's clock.
        Cancel the returned timer in :meth:`teardown` if it may still be pending."""
        return self.link.clock.call_later(delay, lambda: self.post(message))

    def worker_died(self, worker: str, cause: BaseException) -> None:
        """Any thread: this actor's ``worker`` thread died of ``cause``. Posts a
        :class:`~vistter.supervisors.worker.WorkerDied`; the actor's thread then raises
        :class:`~vistter.supervisors.worker.WorkerDiedError` (naming the worker, this actor
        and the cause) and the actor crashes. Never blocks, never raises."""
        self.post(WorkerDied(worker, cause))

    def start_worker(
        self,
        worker: str,
        body: Callable[[], None],
        *,
        thread_name: str | None = None,
        ended_normally: Callable[[BaseException], bool] | None = None,
    ) -> threading.Thread:
        """Start a daemon worker thread running ``body``; if it raises (and
        ``ended_normally`` does not accept the exception), the actor crashes through
        :meth:`worker_died`. Call from the actor's thread (usually in :meth:`setup`).
        The thread is named ``thread_name``, by default ``vistter-<child id>-<worker>``."""
        default_name = f"vistter-{self.link.path.rsplit('/', 1)[-1]}-{worker}"
        return start_worker(
            worker,
            body,
            self.worker_died,
            owner=self.link.path,
            thread_name=thread_name or default_name,
            ended_normally=ended_normally or (lambda _: False),
        )

    def setup(self) -> None:
        """Prepare the actor. Runs in the actor's thread before any message is handled.

        If it raises, the actor dies with reason ``start_failed``, its processes are ended
        and :meth:`teardown` still runs.
        """

    def teardown(self) -> None:
        """Release what the actor holds. Runs in the actor's thread, before its processes are
        ended, on every way of ending except a kill from outside (a hang, or a shutdown that
        timed out): then the actor's thread may still be busy, so teardown is skipped and
        only the processes are ended, by PID. If it raises, the error is logged and the
        processes are ended all the same.
        """

    # -- Pykka hooks, final ------------------------------------------------------------

    @final
    def on_start(self) -> None:
        try:
            self.setup()
        except Exception as exc:
            logger.exception("%s failed to start", self.link.path)
            self._die(Exit.from_exception(ExitReason.START_FAILED, exc))
            return
        self.link.report_ready()

    @final
    def on_stop(self) -> None:
        reason = ExitReason.SHUTDOWN if self.link.shutdown_requested else ExitReason.NORMAL
        self._die(Exit(reason))

    @final
    def on_failure(self, exception_type: Any, exception_value: Any, traceback: Any) -> None:
        error = Exit(ExitReason.CRASH, f"{getattr(exception_type, '__name__', '?')}: "
                                       f"{exception_value}")
        self._die(error)

    def _actor_loop_running(self) -> None:
        """Pykka's message loop, with Vistter's error policy and the heartbeat answer."""
        while not self.actor_stopped.is_set():
            envelope = self.actor_inbox.get()
            if isinstance(envelope.message, Heartbeat):
                if envelope.reply_to is not None:
                    envelope.reply_to.set(True)
                continue
            try:
                if isinstance(envelope.message, WorkerDied):
                    died = envelope.message
                    raise WorkerDiedError(
                        died.worker, died.cause, owner=self.link.path
                    ) from died.cause
                response = self._handle_receive(envelope.message)
            except OperatorError as exc:
                if envelope.reply_to is not None:
                    envelope.reply_to.set_exception()
                else:
                    logger.warning("%s: %s", self.link.path, exc)
                continue
            except BaseException as exc:
                exc_info = sys.exc_info()
                logger.error("%s crashed", self.link.path, exc_info=exc_info)
                # Report the death before answering, so that an asker who sees the error
                # also sees the supervisor already told.
                self._die(Exit.from_exception(ExitReason.CRASH, exc))
                if envelope.reply_to is not None:
                    envelope.reply_to.set_exception(exc_info)
                return
            if envelope.reply_to is not None:
                envelope.reply_to.set(response)

    # -- dying -------------------------------------------------------------------------

    def _kill_from_outside(self, exit_: Exit) -> None:
        """Runs in the supervisor's thread when it declares this actor hung or kills it.

        Ends the processes even when the actor is already dying but stuck in teardown.
        """
        with self._death_lock:
            already_dying = self._dead
            self._dead = True
        if not already_dying:
            ActorRegistry.unregister(self.actor_ref)
            self.actor_stopped.set()
            # An idle actor's thread waits on its inbox: wake it so it sees it is stopped
            # and exits (a non-daemon thread left waiting would keep the process alive).
            self.actor_inbox.put(Envelope(Heartbeat()))
        self.processes.end_all(grace=0.5)
        self.link.report_exit(exit_)

    def _die(self, exit_: Exit) -> None:
        with self._death_lock:
            if self._dead:
                return
            self._dead = True
        ActorRegistry.unregister(self.actor_ref)
        self.actor_stopped.set()
        try:
            self.teardown()
        except Exception:
            logger.exception("%s: teardown raised; ending its processes anyway", self.link.path)
        self.processes.end_all()
        self.link.report_exit(exit_)
