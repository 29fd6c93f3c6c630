"""Which host paths a bind mount may expose: the admin's allow-list, minus what is never safe.

Teams share hosts, so a bind mount is a way out of the container: by default
only a Wharf-owned area (``$WHARF_ROOT/binds``) may be bound, the host config's
``allowed_bind_paths`` widens that, and the system's own directories, the
Wharf state and the sockets under /run are refused whatever the config says.
Paths are checked after resolving symlinks when a container is created, and
the resolved path is what is recorded.  At every start the recorded path is
opened again one component at a time without following any symlink, checked
once more, and the OCI runtime is handed ``/proc/PID/fd/N`` of that open
directory bind-mounted onto a staging point under ``$WHARF_RUN/bindsrc``
(the kernel binds across mount namespaces only from a mount, not from a
descriptor): a component swapped for a symlink since (by a container that can
write its parent) is refused, and a swap after the check changes nothing, as
the mount follows the open file, not the path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from runtime.config import Paths
from runtime.errors import InvalidArgument

_O_PATH_NOFOLLOW = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC

#: Never bound, nor anything below them.
SENSITIVE = (
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/sys",
    "/usr",
    "/bin",
    "/sbin",
    "/run",
    "/var/run",
    "/root",
)


def default_allowed(paths: Paths) -> list[Path]:
    return [paths.root / "binds"]


def check_bind_source(paths: Paths, source: str, create: bool) -> Path:
    """Return the resolved host path to bind, or raise naming why it is refused."""
    if not source.startswith("/"):
        raise InvalidArgument(f"bind source {source!r} is not an absolute path")
    allowed = [Path(p) for p in paths.config.allowed_bind_paths] or default_allowed(paths)
    allowed = [Path(os.path.realpath(p)) for p in allowed]
    resolved = Path(os.path.realpath(source))
    _refuse_sensitive(paths, source, resolved)
    if not any(resolved == a or resolved.is_relative_to(a) for a in allowed):
        places = ", ".join(str(a) for a in allowed)
        raise InvalidArgument(
            f"bind source {source} is outside the host paths this host allows for bind mounts ({places})"
        )
    if not resolved.exists():
        if not create:
            raise InvalidArgument(
                f"invalid mount config: bind source path does not exist: {source}"
            )
        resolved.mkdir(parents=True, mode=0o755)
    return resolved


def _refuse_sensitive(paths: Paths, source: str, resolved: Path) -> None:
    if resolved == Path("/"):
        raise InvalidArgument(f"bind source {source} is the host's root and is never allowed")
    for s in SENSITIVE:
        sp = Path(s)
        if resolved == sp or resolved.is_relative_to(sp):
            raise InvalidArgument(f"bind source {source} is below {s}, which is never allowed")
    for state in (paths.root, paths.run):
        state = Path(os.path.realpath(state))
        if state.is_relative_to(resolved) or (
            resolved.is_relative_to(state) and not resolved.is_relative_to(state / "binds")
        ):
            raise InvalidArgument(f"bind source {source} would expose Wharf's own state ({state})")


def open_unlinked(source: str) -> int:
    """Open the host path ``source`` as an ``O_PATH`` descriptor, following no symlink.

    Every component is opened relative to its parent with ``O_NOFOLLOW``: the path
    was fully resolved when it was recorded, so any symlink met now was planted
    since (by a container that can write a parent through another mount) and is
    refused.  ``..`` and ``.`` are refused too.
    """
    if not source.startswith("/"):
        raise InvalidArgument(f"bind source {source!r} is not an absolute path")
    fd = os.open("/", _O_PATH_NOFOLLOW | os.O_DIRECTORY)
    try:
        for part in [p for p in source.split("/") if p]:
            if part in (".", ".."):
                raise InvalidArgument(f"bind source {source} is not a normalized path")
            try:
                nxt = os.open(part, _O_PATH_NOFOLLOW, dir_fd=fd)
            except (FileNotFoundError, NotADirectoryError):
                raise InvalidArgument(
                    f"invalid mount config: bind source path does not exist: {source}"
                ) from None
            os.close(fd)
            fd = nxt
            if stat.S_ISLNK(os.fstat(fd).st_mode):
                raise InvalidArgument(
                    f"bind source {source} was replaced by a symlink since the container"
                    " was created; refusing to follow it"
                )
        opened = os.readlink(f"/proc/self/fd/{fd}")
        if opened != os.path.normpath(source):
            raise InvalidArgument(f"bind source {source} moved while it was opened ({opened})")
        return fd
    except BaseException:
        os.close(fd)
        raise


def pin_bind_source(paths: Paths, source: str) -> int:
    """Open a recorded bind source for a start; return an ``O_PATH`` descriptor of it.

    Opened by :func:`open_unlinked`, then the policy is checked again on what was
    opened (an admin may have narrowed it since).
    """
    fd = open_unlinked(source)
    try:
        check_bind_source(paths, os.path.normpath(source), create=False)  # what was opened
        return fd
    except BaseException:
        os.close(fd)
        raise


def staging_dir(paths: Paths) -> Path:
    """Where a start's bind sources are mounted for the OCI runtime (root's alone)."""
    return paths.run / "bindsrc"


def stage_bind_source(paths: Paths, source: str, staging: Path) -> None:
    """Mount the checked, pinned ``source`` at ``staging`` for the OCI runtime to bind.

    ``staging`` is a fresh name under :func:`staging_dir`; undo with
    :func:`unstage` once the runtime has made the container's mounts.
    """
    from runtime.containers.rootfs import bind_mount

    fd = pin_bind_source(paths, source)
    try:
        staging.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            staging.mkdir(mode=0o700)
        else:
            os.close(os.open(staging, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        try:
            bind_mount(f"/proc/self/fd/{fd}", staging)
        except BaseException:
            unstage(staging)
            raise
    finally:
        os.close(fd)


def unstage(staging: Path) -> None:
    """Detach a staging mount and remove its mount point (never what was mounted there).

    ``rmdir``/``unlink`` refuse a point still mounted or not empty, so a failed
    detach leaves the staging name behind rather than touching the source.
    """
    from runtime.containers.rootfs import unmount

    unmount(staging)
    try:
        if staging.is_dir() and not staging.is_symlink():
            staging.rmdir()
        else:
            staging.unlink()
    except FileNotFoundError:
        pass
