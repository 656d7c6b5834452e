"""The admin password of the operator console, kept only as an argon2 hash.

``vistter hash-password`` prints the hash to put in ``[api] admin_password_hash``; the
``VISTTER_ADMIN_PASSWORD`` environment variable is hashed when the configuration is loaded, so
the plain password is never kept. Hashing and verifying use ``argon2-cffi`` (argon2id, its
RFC 9106 defaults); a verify takes a few hundred milliseconds and 64 MiB on purpose, so call
it from a worker thread, never from the event loop.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from vistter.errors import ConfigError

__all__ = [
    "ADMIN_PASSWORD_VARIABLE",
    "MIN_PASSWORD_LENGTH",
    "PasswordTooShortError",
    "check_password_hash",
    "hash_password",
    "verify_password",
]

ADMIN_PASSWORD_VARIABLE = "VISTTER_ADMIN_PASSWORD"  # noqa: S105 - a variable name
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_HASHER = argon2.PasswordHasher()


class PasswordTooShortError(ConfigError):
    """The admin password offered to be hashed is empty or too short to protect anything."""


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (a new random salt each time).

    Blocks the calling thread for a few hundred milliseconds. Raises
    :class:`PasswordTooShortError` for fewer than :data:`MIN_PASSWORD_LENGTH` characters (or
    more than :data:`MAX_PASSWORD_LENGTH`).
    """
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordTooShortError(
            f"The admin password has {len(password)} characters; it needs at least "
            f"{MIN_PASSWORD_LENGTH} (and at most {MAX_PASSWORD_LENGTH}).",
            hint="Choose a longer password: a few unrelated words are easy to type and hard "
            "to guess.",
        )
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``. Never raises for a wrong password or a
    malformed hash (both are ``False``). Blocks the calling thread (a worker thread)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_hash(text: str) -> str:
    """``text`` if it is an argon2 encoded hash (``$argon2id$v=19$m=...``), else ``ValueError``
    naming what is wrong."""
    if not text.startswith("$argon2"):
        raise ValueError("it is not an argon2 hash (it should start with '$argon2id$')")
    try:
        argon2.extract_parameters(text)
    except InvalidHashError:
        raise ValueError("it looks like an argon2 hash but its parameters do not parse") from None
    return text
