"""``vistter hash-password`` (alias ``vistter passwd``): the admin password's argon2 hash.

At a terminal it asks twice without echo; otherwise it reads the first line of standard input
(``echo "$PASSWORD" | vistter hash-password``). It prints the hash alone on standard output,
and on standard error the line to put in the configuration. The password is never printed.
"""

from __future__ import annotations

import getpass
from typing import TextIO

from vistter.errors import ConfigError
from vistter.passwords import ADMIN_PASSWORD_VARIABLE, hash_password

__all__ = ["cmd_hash_password"]

EXIT_OK = 0


class PasswordEntryError(ConfigError):
    """The password could not be read (nothing on stdin, the two entries differ)."""


def read_password(stdin: TextIO) -> str:
    """The password typed at the terminal (twice, must match) or stdin's first line."""
    if stdin.isatty():
        first = getpass.getpass("Admin password: ")
        if getpass.getpass("Same password again: ") != first:
            raise PasswordEntryError("The two passwords differ.",
                                     hint="Run vistter hash-password again and type it twice.")
        return first
    line = stdin.readline()
    if not line:
        raise PasswordEntryError(
            "No password on standard input.",
            hint="Run it at a terminal, or pipe the password: "
            "printf '%s\\n' \"$PASSWORD\" | vistter hash-password",
        )
    return line.rstrip("\r\n")


def cmd_hash_password(stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Read the password, print its hash. Raises :class:`~vistter.errors.ConfigError` (the CLI
    prints it and exits 2) for a missing, mismatched or too short password."""
    password_hash = hash_password(read_password(stdin))
    print(password_hash, file=stdout)
    print(
        "Put it in the appliance configuration, then restart:\n"
        f"  [api]\n  admin_password_hash = '{password_hash}'\n"
        f"(or set {ADMIN_PASSWORD_VARIABLE} in the appliance's environment instead).",
        file=stderr,
    )
    return EXIT_OK
