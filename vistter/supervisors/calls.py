"""Calling one method of an actor without building a Pykka proxy for it.

``ActorRef.proxy()`` introspects every attribute of the actor each time it is built; a status
read that builds one per actor per request spends much of its CPU there
(``bench/status_read.py`` compares both ways on a running supervisor). Pykka documents
``ask(ProxyCall(...))`` as the public way to skip the proxy.
"""

from __future__ import annotations

from typing import Any

import pykka
from pykka.messages import ProxyCall

__all__ = ["ask_method"]


def ask_method(ref: pykka.ActorRef[Any], method: str, *args: Any) -> pykka.Future[Any]:
    """Send a call of ``method(*args)`` to the actor; its reply comes in the future.

    Runs in the caller's thread and returns at once, never raising: the future's ``get()``
    raises :class:`pykka.ActorDeadError` when the actor was not running, and whatever the
    method raised on the actor's thread (the actor goes on, as with a proxy call).
    """
    message = ProxyCall(attr_path=(method,), args=args, kwargs={})
    return ref.ask(message, block=False)
