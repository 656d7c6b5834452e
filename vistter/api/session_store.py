"""The console's login sessions, kept in memory with an expiry.

A session is created by a right password (``POST /api/login``) and named by a random id that
travels only in an HttpOnly cookie. It carries its own CSRF token, which the page sends back in
a header with every state-changing request. A session ends at its expiry (a fixed lifetime from
the login, never extended) or at logout; a restart of the appliance ends them all.

The store is bounded: beyond :data:`MAX_SESSIONS` the session closest to its end is dropped.
Its methods may be called from any thread (a lock guards the table); none blocks or raises.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from dataclasses import dataclass, field

from vistter.clock import Clock

__all__ = ["MAX_SESSIONS", "Session", "SessionStore"]

logger = logging.getLogger(__name__)

MAX_SESSIONS = 64
"""Console logins kept at once (a few operators with a phone and a desktop each)."""
_ID_BYTES = 32


@dataclass(frozen=True)
class Session:
    """One login: its id (the cookie's value), CSRF token and monotonic end time."""

    id: str = field(repr=False)
    csrf_token: str = field(repr=False)
    created_at: float
    expires_at: float

    def seconds_left(self, now: float) -> float:
        """Seconds until the session ends (0 once it has)."""
        return max(0.0, self.expires_at - now)

    def csrf_matches(self, offered: str | None) -> bool:
        """Whether ``offered`` is this session's CSRF token (compared in constant time)."""
        return offered is not None and hmac.compare_digest(
            offered.encode("utf-8", "replace"), self.csrf_token.encode()
        )


class SessionStore:
    """Login sessions by id, each ending ``lifetime`` seconds after it began (on ``clock``)."""

    def __init__(self, clock: Clock, lifetime: float, max_sessions: int = MAX_SESSIONS) -> None:
        if lifetime <= 0 or max_sessions < 1:
            raise ValueError("a session store needs a positive lifetime and room for a session")
        self._clock = clock
        self._lifetime = float(lifetime)
        self._max = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    @property
    def lifetime(self) -> float:
        """Seconds a session lasts."""
        return self._lifetime

    def create(self) -> Session:
        """A new session (new random id and CSRF token); drops expired ones, and the one
        closest to its end when the store is full."""
        now = self._clock.monotonic()
        session = Session(
            id=secrets.token_urlsafe(_ID_BYTES),
            csrf_token=secrets.token_urlsafe(_ID_BYTES),
            created_at=now,
            expires_at=now + self._lifetime,
        )
        with self._lock:
            self._prune(now)
            while len(self._sessions) >= self._max:
                oldest = min(self._sessions.values(), key=lambda s: s.expires_at)
                del self._sessions[oldest.id]
                logger.warning("console login: %d sessions open; the oldest one was ended",
                               self._max)
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or ``None`` (unknown, ended or expired)."""
        if not session_id:
            return None
        now = self._clock.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if session.expires_at <= now:
                del self._sessions[session_id]
                return None
            return session

    def end(self, session_id: str | None) -> bool:
        """End a session (logout). True if it was live."""
        if not session_id:
            return False
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def __len__(self) -> int:
        with self._lock:
            self._prune(self._clock.monotonic())
            return len(self._sessions)

    def _prune(self, now: float) -> None:
        for session_id in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[session_id]
