"""File operations confined to a directory tree, done through directory fds.

Why this module exists: Wharf works on a container's files as root on the host
(``cp``), while the container — root in its own world — can create symlinks
anywhere in its filesystem and swap a directory for a symlink at any moment.
Resolving a path string once ("it is inside the rootfs") and then opening it by
name lets the kernel follow the path again at open time, through whatever the
container put there in between, up to the host's ``/``. So nothing here takes
a checked path string and opens it later. Instead:

* a path *inside* a tree is looked up with ``openat2(RESOLVE_IN_ROOT)`` from a
  directory fd of the tree's root: the kernel resolves every component —
  symlinks, absolute link targets and ``..`` included — as if that fd were
  ``/``, atomically, so the result is inside the tree even mid-rename;
* an entry is read, created or replaced with one name relative to a directory
  fd the caller holds (``openat``/``mkdirat``/``symlinkat``/``linkat``/
  ``unlinkat`` with ``O_NOFOLLOW``/``AT_SYMLINK_NOFOLLOW``), and a directory,
  once created or opened, is worked on through its fd. A symlink in the last
  component is never followed; swapping a parent after it was opened changes
  nothing.

Creating an entry where a non-directory already is replaces it (as ``docker
cp`` does): the existing name is unlinked, never opened, so a planted symlink
is removed rather than written through. An existing directory is reused for a
directory and refused for anything else.

The same primitives serve both sides of a copy: the container's tree (whose
root fd confines lookups) and the host destination (where the caller picks the
top directory and everything below it is created through fds, so nothing the
copy itself created from the container's content is ever followed).

Needs openat2 (Linux 5.6); ``require_openat2`` says plainly when it is missing.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import posixpath
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import HostError

# openat2(2): the syscall number is the same on x86_64, aarch64 and every
# architecture using the unified table (all but alpha).
SYS_OPENAT2 = 437
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

#: A scoped lookup through ``..`` fails with EAGAIN when anything on the system
#: was renamed meanwhile; it is safe to retry.
_EAGAIN_RETRIES = 1000
#: Replacing an entry the container keeps re-creating: give up after this many.
_RACE_RETRIES = 100
_MAX_SYMLINK_HOPS = 40

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


class _OpenHow(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    ]


def openat2(dir_fd: int, path: str, flags: int, mode: int = 0, resolve: int = 0) -> int:
    """Call openat2(2); return the new fd (close-on-exec) or raise ``OSError``.

    A kernel without openat2 (or a seccomp filter hiding it) raises ``HostError``.
    """
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    fd = _syscall(
        ctypes.c_long(SYS_OPENAT2),
        ctypes.c_int(dir_fd),
        ctypes.c_char_p(os.fsencode(path)),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if fd < 0:
        err = ctypes.get_errno()
        if err == errno.ENOSYS:
            raise HostError(
                f"this kernel ({os.uname().release}) has no openat2 system call, which "
                "copying files in and out of containers needs (Linux 5.6 or later)"
            )
        raise OSError(err, os.strerror(err), path)
    return int(fd)


def require_openat2() -> None:
    """Raise ``HostError`` unless openat2 with ``RESOLVE_IN_ROOT`` works here."""
    fd = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.close(openat2(fd, "/", os.O_PATH, 0, RESOLVE_IN_ROOT))
    except OSError as exc:
        raise HostError(f"openat2 with RESOLVE_IN_ROOT fails on this host: {exc}") from None
    finally:
        os.close(fd)


@contextlib.contextmanager
def opened_root(path: str | Path) -> Iterator[int]:
    """Yield an ``O_PATH`` directory fd of a (trusted, host) path: the root of lookups."""
    fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def open_in_root(root_fd: int, path: str, flags: int = os.O_PATH) -> int:
    """Open ``path`` resolved inside ``root_fd`` as the container would: never above it.

    Every component, symlinks (absolute ones restart at ``root_fd``) and ``..``
    included, resolves within the tree; magic links (``/proc/*/fd``) are refused.
    Add ``os.O_NOFOLLOW`` to ``flags`` to get a final symlink itself (with
    ``O_PATH``). Raises ``OSError`` as open(2) would.
    """
    for _ in range(_EAGAIN_RETRIES):
        try:
            return openat2(root_fd, path or "/", flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
        except OSError as exc:
            if exc.errno != errno.EAGAIN:
                raise
    raise HostError(f"looking up {path}: the filesystem kept changing (EAGAIN)")


def split(path: str) -> tuple[str, str | None]:
    """Split a path into its parent and last name; the name is None for ``/``, ``.``, ``..``."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/", None
    head, name = posixpath.split(stripped)
    if name in (".", ".."):
        return stripped, None
    return head or ("/" if stripped.startswith("/") else "."), name


@dataclass
class Location:
    """Where a path leads inside a tree: a held parent directory and one name in it.

    ``name`` is None when the path names a directory by itself (``/``, ``x/.``,
    ``x/..``); ``dir_fd`` is then that directory. ``st`` is what the name was when
    looked up (None: it does not exist) — a hint only, the container may change it.
    """

    dir_fd: int
    name: str | None
    st: os.stat_result | None

    def close(self) -> None:
        os.close(self.dir_fd)

    def __enter__(self) -> Location:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def locate(root_fd: int, path: str, follow: bool = True) -> Location:
    """Find ``path`` inside the tree of ``root_fd``: its parent held as an fd, and its name.

    The parent resolves with ``RESOLVE_IN_ROOT``. With ``follow``, a symlink in the
    last component is chased (at most 40 hops), each target again resolved inside
    the root, so the result is the entry the container would reach. Raises
    ``FileNotFoundError``/``NotADirectoryError`` when the parent does not exist.
    """
    hops = 0
    while True:
        head, name = split(path)
        if name is None:
            fd = open_in_root(root_fd, path, os.O_PATH | os.O_DIRECTORY)
            return Location(fd, None, os.fstat(fd))
        parent = open_in_root(root_fd, head, os.O_PATH | os.O_DIRECTORY)
        try:
            fd, st = open_entry(parent, name)
        except FileNotFoundError:
            return Location(parent, name, None)
        except BaseException:
            os.close(parent)
            raise
        try:
            if not (follow and stat.S_ISLNK(st.st_mode)):
                return Location(parent, name, st)
            target = read_link(fd)
        finally:
            os.close(fd)
        os.close(parent)
        hops += 1
        if hops > _MAX_SYMLINK_HOPS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
        path = target if target.startswith("/") else posixpath.join(head, target)


def path_in_root(root_fd: int, fd: int) -> str:
    """The path, as seen from the tree's root, of a directory ``fd`` found inside it.

    Only for fds this module resolved inside ``root_fd``: the kernel names both
    (``/proc/self/fd``), and the one is below the other.
    """
    top = os.readlink(f"/proc/self/fd/{root_fd}").rstrip("/")
    here = os.readlink(f"/proc/self/fd/{fd}")
    if here != top and not here.startswith(top + "/"):
        raise OSError(errno.EXDEV, "the entry is not inside the tree", here)
    return "/" + here[len(top) :].strip("/")


# -- reading ---------------------------------------------------------------------


def open_entry(dir_fd: int, name: str) -> tuple[int, os.stat_result]:
    """Open ``name`` in ``dir_fd`` without following it: an ``O_PATH`` fd and its stat.

    ``O_PATH`` opens nothing for I/O, so a device node or FIFO the container
    planted is never opened for real; look at the stat, then ``reopen``.
    """
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        return fd, os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise


def reopen(fd: int, flags: int = os.O_RDONLY) -> int:
    """Open the very inode behind an ``O_PATH`` fd for I/O (regular files, directories).

    Goes through the fd itself (``/proc/self/fd``, or ``.`` for a directory), not
    through any name, so a swap in the tree after ``open_entry`` cannot redirect it.
    """
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        new = os.open(".", flags | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
    elif stat.S_ISREG(st.st_mode):
        new = os.open(f"/proc/self/fd/{fd}", flags | os.O_CLOEXEC)
    else:
        raise OSError(errno.EINVAL, "only regular files and directories are reopened")
    again = os.fstat(new)
    if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino):
        os.close(new)
        raise OSError(errno.ESTALE, "the entry changed while it was reopened")
    return new


def read_link(fd: int) -> str:
    """The target of the symlink an ``O_PATH | O_NOFOLLOW`` fd holds."""
    return os.readlink("", dir_fd=fd)


def link_at(root_fd: int, path: str) -> str | None:
    """The text of the symlink at ``path`` in the tree (its directories resolved inside
    it); None when ``path`` is no symlink, or missing."""
    try:
        fd = open_in_root(root_fd, path, os.O_PATH | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        return read_link(fd) if stat.S_ISLNK(os.fstat(fd).st_mode) else None
    finally:
        os.close(fd)


def follow_links(
    path: str, link: Callable[[str], str | None], follow_last: bool = True
) -> str | None:
    """The container path ``path`` leads to, walked from ``/`` as the kernel walks it.

    ``link`` gives the text of the symlink at a container path (every directory above
    it already resolved), or None; each one met is followed — the last component's
    only with ``follow_last`` — an absolute target from ``/``, ``..`` at ``/`` staying
    there. Missing components are kept as written. None after 40 links: a loop.
    """
    todo = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    links = 0
    while todo:
        name = todo.pop(0)
        if name == "..":
            if done:
                done.pop()
            continue
        target = link("/" + "/".join([*done, name])) if todo or follow_last else None
        if target is None:
            done.append(name)
            continue
        links += 1
        if links > _MAX_SYMLINK_HOPS:
            return None
        if target.startswith("/"):
            done = []
        todo = [p for p in target.split("/") if p not in ("", ".")] + todo
    return "/" + "/".join(done)


# -- writing ---------------------------------------------------------------------


def clear(dir_fd: int, name: str) -> None:
    """Remove a non-directory at ``name`` (never following it); a directory raises EISDIR."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)


def _retry(name: str) -> OSError:
    return OSError(errno.EBUSY, "the entry kept changing while it was replaced", name)


def make_dir(dir_fd: int, name: str, mode: int = 0o755) -> int:
    """Create directory ``name`` in ``dir_fd`` (or reuse the directory there); return its fd.

    A non-directory at the name (a symlink above all) is replaced, not followed.
    The fd is ``O_RDONLY | O_DIRECTORY`` (usable for fchmod, futimens, listing).
    """
    for _ in range(_RACE_RETRIES):
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, mode, dir_fd=dir_fd)
        try:
            return os.open(
                name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd
            )
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT):
                raise
        clear(dir_fd, name)
    raise _retry(name)


def create_file(dir_fd: int, name: str, mode: int = 0o600) -> int:
    """Create a new regular file ``name`` in ``dir_fd``; return it open for writing.

    ``O_CREAT | O_EXCL | O_NOFOLLOW``: the file is always a new inode of ours.
    Whatever non-directory was at the name is unlinked first (never opened), so
    neither a planted symlink nor a hard link to another file is written through.
    """
    for _ in range(_RACE_RETRIES):
        clear(dir_fd, name)
        try:
            return os.open(
                name,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                mode,
                dir_fd=dir_fd,
            )
        except FileExistsError:
            continue
    raise _retry(name)


def make_symlink(dir_fd: int, name: str, target: str) -> None:
    """Create symlink ``name`` -> ``target`` in ``dir_fd``, replacing a non-directory."""
    for _ in range(_RACE_RETRIES):
        clear(dir_fd, name)
        try:
            os.symlink(target, name, dir_fd=dir_fd)
            return
        except FileExistsError:
            continue
    raise _retry(name)


def make_hardlink(src_dir_fd: int, src_name: str, dir_fd: int, name: str) -> None:
    """Hard-link ``src_name`` (not followed if a symlink) as ``name``, replacing a non-directory.

    Both sides are names in held directories; a link can only join two entries of
    one filesystem, so when both fds come from the same tree, so does the link.
    """
    for _ in range(_RACE_RETRIES):
        clear(dir_fd, name)
        try:
            os.link(src_name, name, src_dir_fd=src_dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            return
        except FileExistsError:
            continue
    raise _retry(name)


def set_times(dir_fd: int, name: str, atime_ns: int, mtime_ns: int) -> None:
    """Set the times of ``name`` itself (a symlink's own times, not its target's)."""
    os.utime(name, ns=(atime_ns, mtime_ns), dir_fd=dir_fd, follow_symlinks=False)


def make_dirs(root_fd: int, path: str, mode: int = 0o755) -> int:
    """``mkdir -p`` inside the tree of ``root_fd``; return an ``O_PATH`` fd of the directory.

    Each existing component resolves inside the root (``open_in_root``); a missing
    one is created in its held parent. A dangling symlink in the way stays an error.
    """
    path = posixpath.normpath("/" + path)
    try:
        return open_in_root(root_fd, path, os.O_PATH | os.O_DIRECTORY)
    except FileNotFoundError:
        head, name = split(path)
        if name is None:
            raise
    parent = make_dirs(root_fd, head, mode)
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, mode, dir_fd=parent)
    finally:
        os.close(parent)
    return open_in_root(root_fd, path, os.O_PATH | os.O_DIRECTORY)
