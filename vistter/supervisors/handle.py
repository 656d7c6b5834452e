"""Reaching a supervision tree from outside: by child id, never through a stale ref.

A :class:`SupervisorHandle` wraps a supervisor's ref; a :class:`ChildHandle` names a child
by its path and resolves the *current* incarnation on every call, so a caller holding one
keeps working across restarts. All methods block the calling thread (any thread but the
supervisor's own) for at most ``timeout`` seconds, except :meth:`SupervisorHandle.children_now`
and :meth:`SupervisorHandle.child_now`, which read the supervisor's
:class:`~vistter.supervisors.children_view.ChildrenView` and never wait (for status reads).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

import pykka

from vistter.clock import Clock
from vistter.errors import UnknownChildError
from vistter.supervisors.calls import ask_method
from vistter.supervisors.children_view import view_of
from vistter.supervisors.link import EventSink, Exit, Link
from vistter.supervisors.payloads import SupervisorDescription, TreeNode
from vistter.supervisors.spec import ChildKind, ChildSpec, SupervisorFlags
from vistter.supervisors.supervisor import ChildInfo, Supervisor
from vistter.supervisors.tree_view import child_node, tree_now

DEFAULT_TIMEOUT = 10.0


class SupervisorHandle:
    """Calls into one supervisor."""

    def __init__(self, ref: pykka.ActorRef[Supervisor], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.ref = ref
        self.timeout = timeout

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return ask_method(self.ref, method, *args).get(timeout=self.timeout)
        except pykka.ActorDeadError as exc:
            raise UnknownChildError(
                "the supervisor is not running", hint="it may be restarting; try again"
            ) from exc
        except pykka.Timeout as exc:
            raise TimeoutError(
                f"supervisor did not answer {method} within {self.timeout:g} s"
            ) from exc

    def start_child(self, spec_or_args: ChildSpec | Sequence[Any] = ()) -> str:
        result: str = self._call("start_child", spec_or_args)
        return result

    def terminate_child(self, child_id: str) -> None:
        self._call("terminate_child", child_id)

    def restart_child(self, child_id: str) -> None:
        self._call("restart_child", child_id)

    def delete_child(self, child_id: str) -> None:
        self._call("delete_child", child_id)

    def which_children(self) -> list[ChildInfo]:
        result: list[ChildInfo] = self._call("which_children")
        return result

    def children_now(self) -> list[ChildInfo]:
        """Like :meth:`which_children`, but the supervisor's last published copy, read
        without asking it (it may be busy stopping a slow child). Never waits. Raises
        :class:`~vistter.errors.UnknownChildError` when the supervisor is not running."""
        view = view_of(self.ref)
        if view is None or not self.ref.is_alive():
            raise UnknownChildError(
                "the supervisor is not running", hint="it may be restarting; try again"
            )
        return view.read()

    def child_now(self, path: str) -> ChildInfo:
        """The child at ``path`` (``"program/encoder"``) as :meth:`children_now` shows it,
        going down through child supervisors the same way. Never waits. Raises
        :class:`~vistter.errors.UnknownChildError` when a supervisor on the way is not
        running or has no such child."""
        *parents, child_id = path.strip("/").split("/")
        handle: SupervisorHandle = self
        for parent in parents:
            info = handle._child_info_now(parent)
            if info.ref is None:
                raise UnknownChildError(
                    f"{info.path} is not running (state: {info.state})", hint="try again"
                )
            handle = SupervisorHandle(info.ref, handle.timeout)
        return handle._child_info_now(child_id)

    def _child_info_now(self, child_id: str) -> ChildInfo:
        for info in self.children_now():
            if info.id == child_id:
                return info
        raise UnknownChildError(f"no child {child_id!r}", hint="GET /api/supervision lists them")

    def count_children(self) -> dict[str, int]:
        """OTP's ``count_children``: specs, running (active), supervisors, workers."""
        children = self.which_children()
        return {
            "specs": len(children),
            "active": sum(1 for c in children if c.state == "running"),
            "supervisors": sum(1 for c in children if c.kind is ChildKind.SUPERVISOR),
            "workers": sum(1 for c in children if c.kind is ChildKind.WORKER),
        }

    def child_ref(self, child_id: str) -> pykka.ActorRef[Any]:
        result: pykka.ActorRef[Any] = self._call("child_ref", child_id)
        return result

    def child(self, path: str) -> ChildHandle:
        """A handle on the child at ``path`` (``"camera-1"`` or ``"sources/camera-1"``)."""
        return ChildHandle(self, path)

    def supervisor(self, path: str) -> SupervisorHandle:
        """A handle on a child supervisor, resolved now."""
        return SupervisorHandle(self.child(path).ref(), self.timeout)

    def tree(self) -> TreeNode:
        """The live tree below this supervisor, as JSON-ready dicts."""
        node: SupervisorDescription = self._call("describe")
        return _node_from_supervisor(self, node, self.ref)

    def stop(self) -> None:
        """Stop the supervisor and its subtree (children in reverse start order)."""
        with contextlib.suppress(pykka.ActorDeadError):
            self.ref.stop(block=True, timeout=None)


class ChildHandle:
    """A child named by its path; every call resolves the current incarnation."""

    def __init__(self, root: SupervisorHandle, path: str) -> None:
        self._root = root
        self.path = path

    def ref(self) -> pykka.ActorRef[Any]:
        *parents, child_id = self.path.strip("/").split("/")
        handle = self._root
        for parent in parents:
            handle = SupervisorHandle(handle.child_ref(parent), handle.timeout)
        return handle.child_ref(child_id)

    def proxy(self) -> Any:
        return self.ref().proxy()

    def ask(self, message: Any, timeout: float | None = None) -> Any:
        return self.ref().ask(message, timeout=timeout or self._root.timeout)

    def tell(self, message: Any) -> None:
        self.ref().tell(message)


def _node_from_supervisor(
    handle: SupervisorHandle, describe: SupervisorDescription, ref: pykka.ActorRef[Any]
) -> TreeNode:
    actor = ref.actor_class.__name__
    node: TreeNode = {
        "kind": "supervisor",
        "actor": actor,
        "state": "running",
        "strategy": describe["strategy"],
        "intensity": describe["intensity"],
        "period": describe["period"],
        "recent_restarts": describe["recent_restarts"],
        "children": [],
    }
    for info in handle.which_children():
        child = child_node(info)
        if info.kind is ChildKind.SUPERVISOR and info.ref is not None and info.state == "running":
            sub = SupervisorHandle(info.ref, handle.timeout)
            try:
                sub_node = _node_from_supervisor(sub, sub._call("describe"), info.ref)
                child["strategy"] = sub_node["strategy"]
                child["intensity"] = sub_node["intensity"]
                child["period"] = sub_node["period"]
                child["recent_restarts"] = sub_node["recent_restarts"]
                child["children"] = sub_node["children"]
            except (TimeoutError, UnknownChildError):
                child["state"] = "unresponsive"
        node["children"].append(child)
    return node


class RootSupervisor:
    """The top of a tree: a supervisor with nobody above it.

    ``exited`` is set when the root stops or gives up; ``exit`` tells how.
    """

    def __init__(
        self,
        flags: SupervisorFlags,
        children: Sequence[ChildSpec],
        *,
        name: str = "root",
        clock: Clock | None = None,
        events: EventSink | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.exited = threading.Event()
        self.exit: Exit | None = None
        self.link = Link(name, on_exit=self._on_exit, clock=clock, events=events)
        ref = Supervisor.start(self.link, flags, list(children))
        self.link.clock.wait(self.link.settled, 1e9)
        self.handle = SupervisorHandle(ref, timeout)
        if self.link.exit is not None:
            raise UnknownChildError(
                f"the {name} supervisor failed to start: {self.link.exit.error}",
                hint="see the log above for which child failed and why",
            )

    def _on_exit(self, link: Link, exit_: Exit) -> None:
        self.exit = exit_
        self.exited.set()

    def tree(self) -> TreeNode:
        node = self.handle.tree()
        return {
            "id": self.link.child_id,
            "path": self.link.path,
            "restart_type": "permanent",
            "restarts": 0,
            "history": [],
            "pids": [],
            **node,
        }

    def tree_now(self) -> TreeNode:
        """Like :meth:`tree`, but from every supervisor's published copy
        (:mod:`~vistter.supervisors.tree_view`): never waits for a busy supervisor. Raises
        ``pykka.ActorDeadError`` when the root is not running."""
        try:
            node = tree_now(self.handle.ref)
        except UnknownChildError as exc:
            raise pykka.ActorDeadError(f"{self.link.path} is not running") from exc
        return {
            "id": self.link.child_id,
            "path": self.link.path,
            "restart_type": "permanent",
            "restarts": 0,
            "history": [],
            "pids": [],
            **node,
        }

    def stop(self) -> None:
        self.handle.stop()
        self.exited.wait(5.0)
