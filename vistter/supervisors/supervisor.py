"""The supervisor actor: Erlang/OTP supervision on top of Pykka.

A :class:`Supervisor` starts its children in order, watches them through their
:class:`~vistter.supervisors.link.Link`, restarts them by strategy and restart type, kills
what does not stop in time, and gives up (escalates to its own supervisor) when children
die more often than its restart intensity allows. Everything here runs in the
supervisor's own actor thread; other threads only post messages to it.

What it knows about each child is a :class:`~vistter.supervisors.children.ChildRecord`
(copied after every change into a :mod:`~vistter.supervisors.children_view` for readers that
must not wait); hung children are found by :mod:`~vistter.supervisors.heartbeat`, restart
storms by :mod:`~vistter.supervisors.intensity`, and delayed restarts follow the child's
:class:`~vistter.supervisors.backoff.Backoff`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import pykka

from vistter.errors import ChildStartError, SupervisionError, UnknownChildError
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.children import ChildInfo, ChildRecord
from vistter.supervisors.children_view import ChildrenView
from vistter.supervisors.heartbeat import HeartbeatProbe, Pulse
from vistter.supervisors.intensity import RestartIntensity
from vistter.supervisors.link import Exit, ExitReason, Link
from vistter.supervisors.payloads import SupervisorDescription
from vistter.supervisors.spec import ChildSpec, RestartType, Strategy, SupervisorFlags

__all__ = ["SUPERVISION_TOPIC", "ChildInfo", "Supervisor", "SupervisorEscalation"]

logger = logging.getLogger(__name__)

SUPERVISION_TOPIC = "event.supervision"
"""Where a supervisor publishes what happens to its children (started, exited, restarted,
restart delayed, escalated...); see ``_publish``."""


class SupervisorEscalation(Exception):  # noqa: N818 - it is an exit reason, not an error
    """Raised inside a supervisor that gave up; it crashes the supervisor on purpose."""


# Messages the supervisor posts to itself (from child threads and clock timers).
@dataclass(frozen=True)
class _ChildExited:
    link: Link
    exit: Exit


@dataclass(frozen=True)
class _RestartDue:
    child_id: str


@dataclass(frozen=True)
class _RetryRestart:
    child_id: str


@dataclass(frozen=True)
class _HeartbeatDue:
    child_id: str
    incarnation: int


class Supervisor(SupervisedActor):
    """A supervisor of actors (which may be supervisors themselves).

    Public methods are called through the actor's proxy (see
    :class:`~vistter.supervisors.handle.SupervisorHandle`) and run in the supervisor's
    thread. A child's ``setup`` must not call back into its own supervisor: the
    supervisor waits for it to finish starting.
    """

    def __init__(
        self,
        link: Link,
        flags: SupervisorFlags,
        children: Sequence[ChildSpec] = (),
    ) -> None:
        super().__init__(link)
        if flags.strategy is Strategy.SIMPLE_ONE_FOR_ONE and len(children) != 1:
            raise ValueError("a simple_one_for_one supervisor takes exactly one child template")
        self.flags = flags
        self._intensity = RestartIntensity(flags.intensity, flags.period)
        self._children: list[ChildRecord] = []
        self._template: ChildSpec | None = None
        self._dynamic_ids = itertools.count(1)
        if flags.strategy is Strategy.SIMPLE_ONE_FOR_ONE:
            self._template = children[0]
        else:
            ids = [spec.id for spec in children]
            duplicates = {i for i in ids if ids.count(i) > 1}
            if duplicates:
                raise ValueError(f"duplicate child ids under {link.path}: {sorted(duplicates)}")
            self._children = [ChildRecord(spec) for spec in children]
        self._view = ChildrenView(self.actor_urn, flags, link.clock)  # reads never wait

    @property
    def path(self) -> str:
        return self.link.path

    # -- lifecycle ---------------------------------------------------------------------

    def setup(self) -> None:
        """Start the children in spec order (actor thread). If one fails to start, the
        ones already started are stopped in reverse order and the supervisor fails to
        start with :class:`~vistter.errors.ChildStartError`."""
        started: list[ChildRecord] = []
        for child in list(self._children):
            try:
                self._start(child)
            except ChildStartError:
                for done in reversed(started):
                    self._terminate(done)
                raise
            started.append(child)
        self._publish_view()

    def teardown(self) -> None:
        """Stop every child in reverse start order (actor thread), killing any that does
        not stop within its shutdown time."""
        for child in reversed(self._children):
            child.cancel_timers()
            self._terminate(child)

    def _kill_from_outside(self, exit_: Exit) -> None:
        """Killed by our own supervisor: take the whole subtree down with us."""
        for child in reversed(self._children):
            if child.link is not None:
                child.link.kill(ExitReason.KILLED, f"supervisor {self.path} was killed")
        super()._kill_from_outside(exit_)

    # -- public API (through the proxy) ------------------------------------------------

    def start_child(self, spec_or_args: ChildSpec | Sequence[Any] = ()) -> str:
        """Add and start a child; returns its id.

        For ``simple_one_for_one`` pass the extra start arguments; otherwise a
        :class:`ChildSpec` (its id must be new).
        """
        if self._template is not None:
            if isinstance(spec_or_args, ChildSpec):
                raise SupervisionError(
                    f"{self.path} is simple_one_for_one: start_child takes start arguments",
                    hint="pass the arguments for the child template, not a ChildSpec",
                )
            spec = replace(self._template, id=f"{self._template.id}-{next(self._dynamic_ids)}")
            child = ChildRecord(spec, tuple(spec_or_args))
        else:
            if not isinstance(spec_or_args, ChildSpec):
                raise SupervisionError(
                    f"{self.path}: start_child needs a ChildSpec",
                    hint="build one with ChildSpec(id=..., start=...)",
                )
            if self._find(spec_or_args.id) is not None:
                raise SupervisionError(
                    f"{self.path} already has a child {spec_or_args.id!r}",
                    hint="choose another id, or terminate_child and delete_child the old one",
                )
            child = ChildRecord(spec_or_args)
        self._children.append(child)
        try:
            self._start(child)
        except ChildStartError:
            self._children.remove(child)
            raise
        return child.id

    def terminate_child(self, child_id: str) -> None:
        """Stop a child. Its spec stays (``restart_child`` starts it again) except under
        ``simple_one_for_one`` and for temporary children, which are removed."""
        child = self._require(child_id)
        child.cancel_timers()
        self._terminate(child)
        if self._template is not None or child.spec.restart is RestartType.TEMPORARY:
            self._children.remove(child)

    def restart_child(self, child_id: str) -> None:
        """Start a terminated child again."""
        child = self._require(child_id)
        if child.link is not None:
            raise SupervisionError(f"{child.link.path} is running", hint="terminate_child it first")
        child.cancel_timers()
        self._start(child)

    def delete_child(self, child_id: str) -> None:
        """Forget a terminated child's spec."""
        child = self._require(child_id)
        if child.link is not None:
            raise SupervisionError(f"{child.link.path} is running", hint="terminate_child it first")
        child.cancel_timers()
        self._children.remove(child)

    def which_children(self) -> list[ChildInfo]:
        """Every child, in start order, with its state, restarts, history and PIDs."""
        return [child.info(self.path) for child in self._children]

    def child_ref(self, child_id: str) -> pykka.ActorRef[Any]:
        """The current incarnation of a running child."""
        child = self._require(child_id)
        if child.ref is None or child.link is None or child.link.exit is not None:
            raise UnknownChildError(
                f"{self.path}/{child_id} is not running (state: {child.state})",
                hint="wait for its restart, or look at /api/supervision for why it stopped",
            )
        return child.ref

    def describe(self) -> SupervisorDescription:
        """This supervisor's own node for the tree readout (children filled in by caller)."""
        return {
            "strategy": self.flags.strategy.value,
            "intensity": self.flags.intensity,
            "period": self.flags.period,
            "recent_restarts": self._intensity.recent(self.link.clock.monotonic()),
        }

    def _handle_receive(self, message: Any) -> Any:  # every message, before its reply
        try:
            return super()._handle_receive(message)
        finally:
            self._publish_view()

    def _publish_view(self) -> None:
        self._view.publish((c.info(self.path) for c in self._children), self._intensity.times())

    # -- internal messages -------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _ChildExited):
            self._on_child_exited(message.link, message.exit)
        elif isinstance(message, _RestartDue):
            self._on_restart_due(message.child_id)
        elif isinstance(message, _RetryRestart):
            self._on_retry(message.child_id)
        elif isinstance(message, _HeartbeatDue):
            self._on_heartbeat_due(message.child_id, message.incarnation)
        else:
            return super().on_receive(message)
        return None

    def _on_child_exited(self, link: Link, exit_: Exit) -> None:
        child = next((c for c in self._children if c.link is link), None)
        if child is None or link.shutdown_requested:
            return  # a stale incarnation, or one we are stopping ourselves
        child.forget_incarnation(exit_)
        self._publish("child_exited", child, reason=exit_.reason.value, error=exit_.error)
        now = self.link.clock.monotonic()
        backoff = child.spec.restart_delay
        if backoff is not None and now - child.started_at >= backoff.reset_after:
            child.delayed_attempt = 0
        if not child.spec.restart.wants_restart(exit_):
            if self._template is not None or child.spec.restart is RestartType.TEMPORARY:
                self._children.remove(child)
            return
        self._restart(child)

    def _on_restart_due(self, child_id: str) -> None:
        """A delayed restart fell due: it is counted but not checked against intensity
        (the delay is the rate limit)."""
        child = self._find(child_id)
        if child is None or child.state != "restarting":
            return
        child.restart_timer = None
        self._intensity.add(self.link.clock.monotonic())
        self._start_group(self._pending(child))

    def _on_retry(self, child_id: str) -> None:
        child = self._find(child_id)
        if child is not None and child.state == "restarting" and child.link is None:
            self._restart(child, retry=True)

    # -- restarting --------------------------------------------------------------------

    def _restart(self, child: ChildRecord, *, retry: bool = False) -> None:
        """Restart ``child`` and its group (by strategy), delay it, or give up."""
        group = self._pending(child) if retry else self._group(child)
        if self._intensity.add(self.link.clock.monotonic()):
            self._stop_group(child, group)
            self._start_group(group)
            return
        backoff = child.spec.restart_delay
        if backoff is None:
            self._escalate(child)
        delay = backoff.delay(child.delayed_attempt)
        child.delayed_attempt += 1
        self._stop_group(child, group)
        for member in group:
            if member in self._children:
                member.state = "restarting"
        child.restart_timer = self.post_later(delay, _RestartDue(child.id))
        self._publish("restart_delayed", child, delay=delay)
        logger.warning("%s/%s keeps failing; next restart in %.1f s", self.path, child.id, delay)

    def _group(self, child: ChildRecord) -> list[ChildRecord]:
        """The children a restart of ``child`` involves, in start order."""
        return self.flags.strategy.restart_group(self._children, child)

    def _pending(self, child: ChildRecord) -> list[ChildRecord]:
        """The members of ``child``'s group still waiting to be restarted."""
        return [c for c in self._group(child) if c is child or c.state == "restarting"]

    def _stop_group(self, child: ChildRecord, group: list[ChildRecord]) -> None:
        """Stop the group's other members in reverse order; drop temporary ones."""
        for member in reversed(group):
            if member not in self._children:
                continue
            member.cancel_timers()
            self._terminate(member)
            if member.spec.restart is RestartType.TEMPORARY:
                self._children.remove(member)

    def _start_group(self, group: list[ChildRecord]) -> None:
        """Start the group in order. If one fails, it and the rest wait for a retry that
        goes through the intensity check again (OTP's ``try_again``)."""
        for index, member in enumerate(group):
            if member not in self._children or member.link is not None:
                continue
            try:
                self._start(member, restarting=True)
            except ChildStartError as exc:
                logger.error("%s", exc)
                for rest in group[index:]:
                    if rest in self._children and rest.link is None:
                        rest.state = "restarting"
                self.post(_RetryRestart(member.id))
                return

    def _escalate(self, child: ChildRecord) -> NoReturn:
        message = (
            f"{self.path}: more than {self.flags.intensity} restarts within "
            f"{self.flags.period:g} s (last: {child.id}); giving up"
        )
        self._publish("escalated", child, error=message)
        logger.error("%s", message)
        raise SupervisorEscalation(message)

    # -- starting and stopping one child -----------------------------------------------

    def _start(self, child: ChildRecord, *, restarting: bool = False) -> None:
        link = Link(
            f"{self.path}/{child.id}",
            on_exit=lambda lk, ex: self.post(_ChildExited(lk, ex)),
            clock=self.link.clock,
            events=self.link.events,
        )
        child.state = "starting"
        self._publish_view()
        try:
            ref = child.spec.start(link, *child.args)
        except Exception as exc:
            child.state = "stopped"
            child.record(Exit.from_exception(ExitReason.START_FAILED, exc))
            raise ChildStartError(
                f"{link.path} could not be constructed: {type(exc).__name__}: {exc}",
                hint="see the log for the traceback",
            ) from exc
        child.link, child.ref = link, ref
        if not self.link.clock.wait(link.settled, child.spec.start_timeout):
            link.kill(ExitReason.KILLED, f"not ready within {child.spec.start_timeout:g} s")
        # Ready is started (OTP), even if already dead again: that exit, in the mailbox, is a crash.
        if link.exit is not None and not link.ready.is_set():
            exit_ = link.exit
            child.forget_incarnation(exit_)
            child.state = "stopped"
            raise ChildStartError(
                f"{link.path} failed to start: {exit_.error or exit_.reason.value}",
                hint="see the log above for the cause",
            )
        child.state = "running"
        child.started_at = self.link.clock.monotonic()
        if restarting:
            child.restarts += 1
        self._publish("child_restarted" if restarting else "child_started", child)
        if child.spec.heartbeat is not None:
            child.heartbeat = HeartbeatProbe(child.spec.heartbeat, ref, link.incarnation)
            self._arm_heartbeat(child, child.heartbeat)

    def _terminate(self, child: ChildRecord) -> None:
        """OTP's shutdown: ask the child to stop, wait ``shutdown`` seconds, then kill."""
        link, ref = child.link, child.ref
        if link is None or ref is None:
            if child.state != "restarting":
                child.state = "stopped"
            return
        link.shutdown_requested = True
        child.state = "stopping"
        self._publish_view()
        with contextlib.suppress(pykka.ActorDeadError):
            ref.stop(block=False)
        timeout = child.spec.shutdown
        if not self.link.clock.wait(link.exited, timeout if math.isfinite(timeout) else 1e9):
            link.kill(ExitReason.KILLED, f"did not stop within {timeout:g} s")
            logger.warning("%s did not stop within %g s; killed", link.path, timeout)
        exit_ = link.exit or Exit(ExitReason.KILLED)
        child.forget_incarnation(exit_)
        child.state = "stopped"
        self._publish("child_terminated", child, reason=exit_.reason.value)

    # -- heartbeat ---------------------------------------------------------------------

    def _arm_heartbeat(self, child: ChildRecord, probe: HeartbeatProbe) -> None:
        probe.timer = self.post_later(
            probe.spec.interval, _HeartbeatDue(child.id, probe.incarnation)
        )

    def _on_heartbeat_due(self, child_id: str, incarnation: int) -> None:
        child = self._find(child_id)
        probe = child.heartbeat if child is not None else None
        if child is None or child.link is None or probe is None:
            return
        if child.link.incarnation != incarnation or probe.incarnation != incarnation:
            return
        now = self.link.clock.monotonic()
        pulse = probe.check(now)
        if pulse is Pulse.HUNG:
            child.link.kill(
                ExitReason.HANG, f"no heartbeat answer within {probe.unanswered_for(now):.1f} s"
            )
        elif pulse is Pulse.ALIVE:
            self._arm_heartbeat(child, probe)

    # -- helpers -----------------------------------------------------------------------

    def _find(self, child_id: str) -> ChildRecord | None:
        return next((c for c in self._children if c.id == child_id), None)

    def _require(self, child_id: str) -> ChildRecord:
        child = self._find(child_id)
        if child is None:
            known = ", ".join(c.id for c in self._children) or "none"
            raise UnknownChildError(
                f"{self.path} has no child {child_id!r}", hint=f"known children: {known}"
            )
        return child

    def _publish(self, event: str, child: ChildRecord, **extra: Any) -> None:
        self.link.events.publish(SUPERVISION_TOPIC, {
            "event": event, "supervisor": self.path, "child": child.id,
            "path": f"{self.path}/{child.id}", "restarts": child.restarts, **extra,
        })  # fmt: skip
