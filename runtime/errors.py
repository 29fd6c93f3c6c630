"""The one error tree of the runtime.

Every failure the runtime reports to a caller is a ``WharfError``; the CLI turns
it into one line on stderr and Docker's exit code (125 for Wharf's own errors),
the worker stores its message as the job's failure. Subprocess and netlink
failures are mapped onto this tree in one place (``from_subprocess``), never ad
hoc.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from collections.abc import Iterator


class WharfError(Exception):
    """Base of every error the runtime raises on purpose."""

    exit_code = 125
    #: a stable name of the situation for callers (the site stores it with a failed job and
    #: maps it to an HTTP status); every subclass names its own, even when it is its parent's
    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(WharfError):
    """A named object (image, container, network, volume, file) does not exist."""

    kind = "not_found"


class ImageNotFound(NotFound):
    kind = "not_found"


class ContainerNotFound(NotFound):
    kind = "not_found"


class NetworkNotFound(NotFound):
    kind = "not_found"


class VolumeNotFound(NotFound):
    kind = "not_found"


class Conflict(WharfError):
    """The request clashes with existing state: a name in use, an object in use."""

    kind = "conflict"


class ReadOnly(WharfError):
    """A write into what the container has read-only: its rootfs under ``--read-only``,
    a ``:ro`` volume or bind (Docker's 403)."""

    kind = "read_only"


class InvalidArgument(WharfError):
    """The caller's input is wrong: a bad flag value, a malformed reference, a bad tar entry."""

    kind = "invalid_argument"


class AmbiguousPrefix(InvalidArgument):
    """A short id or name matches more than one object (container, image, network)."""

    kind = "ambiguous"


class RegistryError(WharfError):
    """A registry refused or failed a request; carries the registry's own message."""

    kind = "registry_error"

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthenticationError(RegistryError):
    """The registry wants credentials we do not have, or refused the ones we sent."""

    kind = "authentication_error"


class OCIRuntimeError(WharfError):
    """The OCI runtime (runc, crun) failed; the message is its own stderr, trimmed."""

    kind = "runtime_error"


class CommandNotFound(WharfError):
    """The container's command does not exist (Docker's exit code 127)."""

    exit_code = 127
    kind = "command_not_found"


class CommandNotExecutable(WharfError):
    """The container's command exists but cannot be run (Docker's exit code 126)."""

    exit_code = 126
    kind = "command_not_executable"


class HostError(WharfError):
    """The host lacks something the operation needs: root, a kernel feature, a program."""

    kind = "host_error"


def from_subprocess(exc: subprocess.CalledProcessError, what: str) -> WharfError:
    """Map a failed host command onto the tree, keeping its last stderr line as the reason."""
    stderr = exc.stderr
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    reason = lines[-1] if lines else f"exit status {exc.returncode}"
    return WharfError(f"{what}: {reason}")


@contextlib.contextmanager
def cleanup_step(
    log: logging.Logger,
    what: str,
    *errors: type[BaseException],
    level: int = logging.WARNING,
) -> Iterator[None]:
    """Go on after a failed cleanup step, saying in ``log`` what was left (never silently).

    For the steps that free what a container or a network held, where the caller
    must go on (a failed unmount must not stop a remove) yet an operator must be
    able to find why something stayed behind. Catches ``errors`` (WharfError when
    none are given).
    """
    caught: tuple[type[BaseException], ...] = errors or (WharfError,)
    try:
        yield
    except caught as exc:
        log.log(level, "%s failed (going on): %s", what, exc)
