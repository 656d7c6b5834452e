"""The supervision tree readout built from published copies, without asking any supervisor.

:meth:`~vistter.supervisors.handle.SupervisorHandle.tree` asks every supervisor for its
description and its children: a supervisor busy stopping a slow child (up to its shutdown
time) or starting one keeps that ask waiting, and ``GET /api/supervision`` with it. Here every
supervisor's :class:`~vistter.supervisors.children_view.ChildrenView` is read instead (each
replaced by its supervisor after every message it handled and around each slow step), so the
readout costs a few lock-protected pointer reads per supervisor, however busy they are. A busy
supervisor shows its children as they were when it last published (a child it is stopping
shows ``stopping``).

Runs in the caller's thread (an API worker); raises
:class:`~vistter.errors.UnknownChildError` only when the top supervisor is not running (a
child supervisor that is gone shows as its slot says).
"""

from __future__ import annotations

from typing import Any

import pykka

from vistter.errors import UnknownChildError
from vistter.supervisors.children import ChildInfo
from vistter.supervisors.children_view import ChildrenView, view_of
from vistter.supervisors.payloads import TreeNode
from vistter.supervisors.spec import ChildKind

__all__ = ["child_node", "tree_now"]


def child_node(info: ChildInfo) -> TreeNode:
    """One child slot as a tree node (no children filled in)."""
    return {
        "id": info.id,
        "path": info.path,
        "kind": info.kind.value,
        "actor": info.actor,
        "state": info.state,
        "restart_type": info.restart_type.value,
        "strategy": None,
        "restarts": info.restarts,
        "history": [entry.to_dict() for entry in info.history],
        "pids": list(info.pids),
        "children": [],
    }


def _live_view(ref: pykka.ActorRef[Any]) -> ChildrenView | None:
    view = view_of(ref)
    return view if view is not None and ref.is_alive() else None


def _supervisor_node(ref: pykka.ActorRef[Any], view: ChildrenView) -> TreeNode:
    describe = view.describe()
    node: TreeNode = {
        "kind": "supervisor",
        "actor": ref.actor_class.__name__,
        "state": "running",
        "strategy": describe["strategy"],
        "intensity": describe["intensity"],
        "period": describe["period"],
        "recent_restarts": describe["recent_restarts"],
        "children": [],
    }
    for info in view.read():
        child = child_node(info)
        sub = None
        if info.kind is ChildKind.SUPERVISOR and info.ref is not None and info.state == "running":
            sub = _live_view(info.ref)
        if sub is not None and info.ref is not None:
            below = _supervisor_node(info.ref, sub)
            child["strategy"] = below["strategy"]
            child["intensity"] = below["intensity"]
            child["period"] = below["period"]
            child["recent_restarts"] = below["recent_restarts"]
            child["children"] = below["children"]
        node["children"].append(child)
    return node


def tree_now(ref: pykka.ActorRef[Any]) -> TreeNode:
    """The live tree below the supervisor behind ``ref``, as
    :meth:`~vistter.supervisors.handle.SupervisorHandle.tree` shows it, from the published
    copies. Never waits for a supervisor."""
    view = _live_view(ref)
    if view is None:
        raise UnknownChildError(
            "the supervisor is not running", hint="it may be restarting; try again"
        )
    return _supervisor_node(ref, view)
