"""Chaos harness helpers: faults between Vistter and the servers and cameras it talks to.

``from chaos import FaultProxy`` works; the import is lazy so that
``python -m chaos.proxy`` runs without importing the module twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaos.proxy import FaultProxy
    from chaos.stats import ProxyError, ProxyStats

__all__ = ["FaultProxy", "ProxyError", "ProxyStats"]


def __getattr__(name: str) -> object:
    if name in __all__:
        module = "chaos.proxy" if name == "FaultProxy" else "chaos.stats"
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'chaos' has no attribute {name!r}")
