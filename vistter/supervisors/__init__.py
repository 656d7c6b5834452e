"""Erlang/OTP supervision on top of Pykka actors."""

from vistter.supervisors.backoff import Backoff
from vistter.supervisors.handle import ChildHandle, RootSupervisor, SupervisorHandle
from vistter.supervisors.spec import (
    ChildKind,
    ChildSpec,
    HeartbeatSpec,
    RestartType,
    Strategy,
    SupervisorFlags,
    start_function_for,
)
from vistter.supervisors.supervisor import ChildInfo, Supervisor, SupervisorEscalation

__all__ = [
    "Backoff",
    "ChildHandle",
    "ChildInfo",
    "ChildKind",
    "ChildSpec",
    "HeartbeatSpec",
    "RestartType",
    "RootSupervisor",
    "Strategy",
    "Supervisor",
    "SupervisorEscalation",
    "SupervisorFlags",
    "SupervisorHandle",
    "start_function_for",
]
