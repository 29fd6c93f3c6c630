"""``cp`` between the host and a container's filesystem, as ``docker cp`` does.

Wharf copies as root on the host, and the container's files are the
container's to shape: it can plant a symlink anywhere (``/tmp/x -> /etc`` meant
for the host's ``/etc``) and swap a directory for a symlink while a copy runs.
So the container's side is never touched through a path string: everything
goes through ``runtime.containers.inroot`` —

* container paths resolve with openat2 ``RESOLVE_IN_ROOT`` from a directory fd
  of the rootfs: symlinks and ``..`` lead where they lead *inside the
  container* (``/data -> /`` is the container's ``/``), never above it;
* entries are read, created and replaced by one name relative to a held
  directory fd, with ``O_NOFOLLOW``: a symlink inside a copied tree is copied
  as a symlink, a planted symlink at a name being written is replaced (never
  written through), and swapping a directory once it is open changes nothing.

The host's side of ``copy_from`` is the caller's to choose (its path resolves
as written), but what the copy creates below it goes through the same
primitives, so it never follows a symlink that came from the container (one
made earlier in this copy or by an earlier copy), never writes into an
existing file's inode (no hard link is written through, none is created),
drops setuid/setgid bits, and skips device nodes, FIFOs and sockets.

A path at or below a volume's or a bind's destination is the mount's, not the
rootfs's under it, as in Docker (running or stopped), and symlinks lead across
mounts as they do for the container (``runtime.containers.cpview``): the copy
then goes on inside that one tree, with the same confinement, the mount's own
directory as its root. Writes are refused into a read-only mount, or into the
rootfs of a ``--read-only`` container. A copy out of a directory holding mounts
takes their contents, a copy into one writes into them, and a mount point is
never replaced (Docker's too); tmpfs mounts, as in Docker, are not seen.
Container paths are taken as Docker's daemon takes them: ``..`` lexically
(``/data/sub/..`` is ``/data``), then every symlink as the container sees it.

Docker's rules are kept: ``cp SRC CTR:DIR`` copies into an existing directory
under SRC's name, ``cp SRC CTR:NEW`` creates NEW; ``SRC/.`` copies a
directory's contents; a destination ending in ``/`` must be an existing
directory when SRC is a file; an existing file is overwritten (replaced); a
directory is never replaced by a file nor a file by a directory.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import grp
import io
import os
import posixpath
import pwd
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from runtime.containers import cpview, inroot
from runtime.errors import Conflict, InvalidArgument, NotFound, WharfError

#: Modes written on the host: no setuid/setgid — the copy belongs to root and the
#: container chose the bits.
HOST_MODE_MASK = 0o7777 & ~(stat.S_ISUID | stat.S_ISGID)
#: Modes written into a container: the host's files as they are.
CONTAINER_MODE_MASK = 0o7777
_CHUNK = 1 << 20
#: Errors of a lookup that mean "no such path" (ELOOP: a symlink loop).
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
#: Errors of a write whose path the container changed under it (a directory moved in
#: where a file was cleared, a name taken between the look and the write).
_RACED = (errno.EISDIR, errno.EEXIST, errno.ENOTEMPTY)


def _view_source(
    view: cpview.View, ctr: str, shown: str, follow: bool = False
) -> tuple[int, os.stat_result, bool]:
    """``_container_source`` of a view's path (a mount's top is itself, not its contents)."""
    fd, st, contents = _container_source(view.root, view.path, ctr, shown, follow)
    return fd, st, contents and not view.top


def _container_path(path: str) -> str:
    """A container path as Docker's daemon takes it: absolute, ``..`` and ``.`` taken
    away lexically (``/data/sub/..`` is ``/data``, whatever ``sub`` is), a trailing
    ``/`` or ``/.`` kept, as they mean "a directory" and "its contents"."""
    clean = posixpath.normpath("/" + path.lstrip("/"))  # "//x" would stay as it is
    if path == "." or path.endswith("/."):
        return clean.rstrip("/") + "/."
    if path.endswith("/") and clean != "/":
        return clean + "/"
    return clean


@contextlib.contextmanager
def _reported(what: str) -> Iterator[None]:
    """Turn an OS error in the middle of a copy into one line: what failed, and why."""
    try:
        yield
    except BrokenPipeError:
        raise  # the reader of a tar stream went away: the CLI ends quietly, as before
    except OSError as exc:
        name = f"{exc.filename}: " if isinstance(exc.filename, str) and exc.filename else ""
        # a path the container removed, swapped for a dangling link or for a directory
        # during the copy: the container's doing, not the host's failure
        kind = (
            NotFound if exc.errno in _MISSING else Conflict if exc.errno in _RACED else WharfError
        )
        raise kind(f"{what}: {name}{exc.strerror or exc}") from None
    except tarfile.TarError as exc:
        raise InvalidArgument(f"{what}: {exc}") from None


# -- copying a tree from fds to fds ----------------------------------------------


def copy_entry(
    fd: int,
    st: os.stat_result,
    dst_dir: int,
    name: str,
    mode_mask: int,
    owners: bool = False,
    below: cpview.Below | None = None,
    into: cpview.Below | None = None,
) -> None:
    """Copy the entry behind ``fd`` (``O_PATH``, not followed) as ``name`` in ``dst_dir``.

    Directories are copied recursively and merge into an existing directory;
    other entries replace what is at ``name``. Symlinks are copied as symlinks.
    FIFOs, sockets and device nodes are skipped: reading one would block or read
    a device, and creating one would hand its access to whoever can reach the copy.
    With ``owners`` (``cp -a``) each entry keeps its uid and gid; otherwise it
    belongs to root, who made the copy. ``below``: the entry is a container's, and
    its mounts are read in place of their mount points; ``into``: the copy is made
    in a container, at this container path, and its mounts are written in place of
    their mount points (a mount point is never replaced).
    """
    kind = stat.S_IFMT(st.st_mode)
    mounted = into.open_mount_dir(kind == stat.S_IFDIR) if into is not None else None
    if kind == stat.S_IFDIR:
        src = inroot.reopen(fd)
        try:
            dst = mounted if mounted is not None else inroot.make_dir(dst_dir, name)
            try:
                copy_children(src, dst, mode_mask, owners, below, into)
                _set_meta(dst, st, mode_mask, owners)
            finally:
                os.close(dst)
        finally:
            os.close(src)
    elif kind == stat.S_IFREG:
        src = inroot.reopen(fd)
        try:
            dst = inroot.create_file(dst_dir, name)
            try:
                _copy_data(src, dst)
                _set_meta(dst, st, mode_mask, owners)
            finally:
                os.close(dst)
        finally:
            os.close(src)
    elif kind == stat.S_IFLNK:
        inroot.make_symlink(dst_dir, name, inroot.read_link(fd))
        if owners:
            os.chown(name, st.st_uid, st.st_gid, dir_fd=dst_dir, follow_symlinks=False)
        inroot.set_times(dst_dir, name, st.st_atime_ns, st.st_mtime_ns)


def copy_children(
    src_dir: int,
    dst_dir: int,
    mode_mask: int,
    owners: bool = False,
    below: cpview.Below | None = None,
    into: cpview.Below | None = None,
) -> None:
    """Copy every entry of the directory open at ``src_dir`` into ``dst_dir``
    (``below``, ``into``: as ``copy_entry``'s, for the directories themselves)."""
    for name in sorted(os.listdir(src_dir)):
        child = below.child(name) if below else None
        try:
            fd, st = _open_child(src_dir, name, child)
        except FileNotFoundError:
            continue  # gone since the listing
        try:
            copy_entry(fd, st, dst_dir, name, mode_mask, owners, child, into and into.child(name))
        finally:
            os.close(fd)


def _open_child(dir_fd: int, name: str, below: cpview.Below | None) -> tuple[int, os.stat_result]:
    """``inroot.open_entry``, or the mount's source where a container's mount is."""
    return (below and below.open_mount()) or inroot.open_entry(dir_fd, name)


def _set_meta(fd: int, st: os.stat_result, mode_mask: int, owners: bool) -> None:
    if owners:
        os.fchown(fd, st.st_uid, st.st_gid)  # before the mode: chown clears setuid bits
    os.fchmod(fd, stat.S_IMODE(st.st_mode) & mode_mask)
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_data(src: int, dst: int) -> None:
    try:
        while os.sendfile(dst, src, None, 64 * _CHUNK) > 0:
            pass
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOSYS):
            raise
        while chunk := os.read(src, _CHUNK):
            _write_all(dst, chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# -- the two sides ---------------------------------------------------------------


def _container_source(
    root: int, path: str, ctr: str, shown: str, follow: bool = False
) -> tuple[int, os.stat_result, bool]:
    """Open a container path to copy from: its ``O_PATH`` fd, stat, and "contents only".

    The last component is not followed (a symlink is copied as one), unless the
    path ends in ``/`` or ``follow`` (``cp -L``): then the link's target, resolved
    inside the container's root, is copied under the link's name.
    ``/`` and ``DIR/.`` mean the directory's contents.
    """
    try:
        with inroot.locate(root, path, follow=follow or path.endswith("/")) as loc:
            if loc.name is None:  # the directory itself: loc.dir_fd is it
                return os.dup(loc.dir_fd), os.fstat(loc.dir_fd), True
            fd, st = inroot.open_entry(loc.dir_fd, loc.name)
            return fd, st, False
    except OSError as exc:
        if exc.errno not in _MISSING:
            raise
    raise NotFound(f"Could not find the file {shown} in container {ctr}")


def _host_source(src: str, follow: bool = False) -> tuple[int, os.stat_result, bool]:
    """Open a host path to copy from, with the same rules as ``_container_source``."""
    contents = src == "." or src.endswith("/.") or os.path.abspath(src) == "/"
    if follow and not contents and not src.endswith("/"):
        fd = os.open(src, os.O_PATH | os.O_CLOEXEC)  # the caller's host path, followed
        return fd, os.fstat(fd), False
    if contents or src.endswith("/"):
        try:
            fd = os.open(src, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except NotADirectoryError:
            raise InvalidArgument(f"{src} is not a directory") from None
        return fd, os.fstat(fd), contents
    full = os.path.abspath(src)
    parent = os.open(os.path.dirname(full), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd, st = inroot.open_entry(parent, os.path.basename(full))
    finally:
        os.close(parent)
    return fd, st, False


def _host_destination(dest: str) -> inroot.Location:
    """Where ``dest`` is on the host: resolved as the caller wrote it (symlinks followed)."""
    real = os.path.realpath(dest)
    head, name = os.path.split(real)
    if not name:
        fd = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        return inroot.Location(fd, None, os.fstat(fd))
    try:
        parent = os.open(head, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise InvalidArgument(
            f"destination directory {os.path.dirname(dest) or '.'} does not exist"
        ) from None
    try:
        st: os.stat_result | None = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        st = None
    return inroot.Location(parent, name, st)


def _deliver(
    fd: int,
    st: os.stat_result,
    name: str,
    contents: bool,
    dst: inroot.Location,
    mode_mask: int,
    shown: tuple[str, str],
    owners: bool = False,
    below: cpview.Below | None = None,
    into: cpview.Below | None = None,
) -> None:
    """Put the source entry at ``dst`` by Docker's rules (see the module's docstring).

    ``below``: the source is a container's (see ``copy_entry``); ``into``: ``dst`` is
    a container's path, at this container path."""
    src_shown, dst_shown = shown
    if dst.name is None or (dst.st is not None and stat.S_ISDIR(dst.st.st_mode)):
        into_fd = (
            dst.dir_fd
            if dst.name is None
            else os.open(
                dst.name,
                os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                dir_fd=dst.dir_fd,
            )
        )
        try:
            if contents:
                src = inroot.reopen(fd)
                try:
                    copy_children(src, into_fd, mode_mask, owners, below, into)
                finally:
                    os.close(src)
            else:
                child = into.child(name) if into else None
                copy_entry(fd, st, into_fd, name, mode_mask, owners, below, child)
        finally:
            if into_fd != dst.dir_fd:
                os.close(into_fd)
        return
    if dst.st is not None and stat.S_ISDIR(st.st_mode):
        raise InvalidArgument(
            f"cannot overwrite non-directory {dst_shown} with directory {src_shown}"
        )
    # a new entry (a directory copy creates it holding SRC's contents), or a file
    # replacing the non-directory there
    assert dst.name is not None
    copy_entry(fd, st, dst.dir_fd, dst.name, mode_mask, owners, below, into)


# -- the four verbs --------------------------------------------------------------


def copy_from(
    manager: Any,
    ctr: str,
    path: str,
    dest: str,
    *,
    follow_link: bool = False,
    archive: bool = False,
) -> None:
    """Copy a container path to a host path (``docker cp [-L] [-a] CTR:PATH DEST``)."""
    cpath = _container_path(path)
    with cpview.opened_view(manager, ctr, cpath, follow=follow_link) as view:
        with _reported(f"copying {path} from container {ctr}"):
            fd, st, contents = _view_source(view, ctr, path, follow_link)
        try:
            if dest.endswith("/") and not Path(dest).is_dir():
                raise InvalidArgument(f"destination directory {dest} does not exist")
            with _reported(f"copying {path} to {dest}"), _host_destination(dest) as dst:
                name = posixpath.basename(cpath.rstrip("/"))
                shown = (path, dest)
                _deliver(fd, st, name, contents, dst, HOST_MODE_MASK, shown, archive, view.below)
        finally:
            os.close(fd)


def copy_to(
    manager: Any,
    src: str,
    ctr: str,
    path: str,
    *,
    follow_link: bool = False,
    archive: bool = False,
) -> None:
    """Copy a host path into a container (``docker cp [-L] [-a] SRC CTR:PATH``)."""
    if not os.path.lexists(src):
        raise NotFound(f"could not find the file {src} on the host")
    cpath = _container_path(path)
    with _reported(f"copying {src}"):
        fd, st, contents = _host_source(src, follow_link)
    try:
        with cpview.opened_view(manager, ctr, cpath, write=True, follow=True) as view:
            try:
                dst = inroot.locate(view.root, view.path, follow=True)
            except OSError as exc:
                if exc.errno not in _MISSING:
                    raise
                raise InvalidArgument(
                    f"could not find the directory {os.path.dirname(path)} in container {ctr}"
                ) from None
            with dst, _reported(f"copying {src} to {path} in container {ctr}"):
                if dst.st is None and cpath.endswith("/") and not stat.S_ISDIR(st.st_mode):
                    raise InvalidArgument(
                        f"destination directory {path} does not exist in container {ctr}"
                    )
                name = os.path.basename(os.path.abspath(src))
                _deliver(
                    fd, st, name, contents, dst, CONTAINER_MODE_MASK, (src, path), archive,
                    into=view.below,
                )  # fmt: skip
    finally:
        os.close(fd)


def tar_from(manager: Any, ctr: str, path: str, out: Any, follow_link: bool = False) -> None:
    """Write a container path as a tar stream (``docker cp CTR:PATH -``).

    The tree is walked through fds like ``copy_from``'s: symlinks are archived as
    symlinks and never followed, so the stream holds the container's files only.
    """
    cpath = _container_path(path)
    with cpview.opened_view(manager, ctr, cpath, follow=follow_link) as view:
        with _reported(f"copying {path} from container {ctr}"):
            fd, st, contents = _view_source(view, ctr, path, follow_link)
        try:
            arcname = "." if contents else posixpath.basename(cpath.rstrip("/"))
            with (
                _reported(f"archiving {path} from container {ctr}"),
                tarfile.open(fileobj=out, mode="w|") as tar,
            ):
                _tar_entry(tar, fd, st, arcname, below=view.below)
        finally:
            os.close(fd)


def stat_path(manager: Any, ctr: str, path: str) -> tuple[str, os.stat_result, str]:
    """Describe a container path as ``docker cp`` asks before it copies (``HEAD
    /containers/{id}/archive``): its name, its stat, and where a symlink leads.

    The stat is the entry's own (a final symlink is not followed) unless the path
    ends in ``/``. A symlink's destination is resolved inside the container's
    root and given as the container's absolute path (Docker's ``linkTarget``):
    the client copies to that path next, so it must never name a host path.
    """
    cpath = _container_path(path)
    with (
        cpview.opened_view(manager, ctr, cpath) as view,
        _reported(f"looking up {path} in container {ctr}"),
    ):
        fd, st, _ = _view_source(view, ctr, path)
        os.close(fd)
        target = view.resolve(cpath) if stat.S_ISLNK(st.st_mode) else ""
    return posixpath.basename(cpath.rstrip("/")) or "/", st, target


#: Docker's init layer (daemon/initlayer): what every container's filesystem shows
#: above its image — empty files, directories, and ``etc/mtab`` as a symlink.
INIT_ENTRIES = {
    ".dockerenv": "file",
    "dev/console": "file",
    "dev/pts": "dir",
    "dev/shm": "dir",
    "etc/hostname": "file",
    "etc/hosts": "file",
    "etc/mtab": "/proc/mounts",
    "etc/resolv.conf": "file",
    "proc": "dir",
    "sys": "dir",
}


def export_tar(manager: Any, ctr: str, out: Any) -> None:
    """Write a container's whole filesystem as ``docker export`` does.

    Names are relative (``bin/sh``, no ``./``, no entry for the root), in lexical
    order, with owner names; the init layer's entries are there as in Docker's.
    The tree is walked through fds as ``tar_from`` does, so nothing the container
    planted leads the walk outside its root.
    """
    created = manager.get(ctr).created
    mtime = _unix_time(created)
    with manager.mounted_rootfs(ctr) as rootfs, inroot.opened_root(rootfs) as root:
        d = inroot.reopen(root)
        try:
            with (
                _reported(f"exporting container {ctr}"),
                tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar,
            ):
                _tar_tree(tar, d, "", mtime, {})
        finally:
            os.close(d)


def _unix_time(created: Any) -> float:
    import time as _time

    from runtime.timefmt import rfc3339_ns

    try:
        return rfc3339_ns(str(created)) / 10**9
    except WharfError:
        return _time.time()


def _tar_tree(tar: tarfile.TarFile, d: int | None, prefix: str, mtime: float, links: dict) -> None:
    """Archive the directory open at ``d`` (None: one only the init layer has) under ``prefix``."""
    names = set(os.listdir(d)) if d is not None else set()
    init_here = {k[len(prefix) :].split("/")[0] for k in INIT_ENTRIES if k.startswith(prefix)}
    for child in sorted(names | init_here):
        rel = prefix + child
        kind = INIT_ENTRIES.get(rel, "dir" if child in init_here else None)
        fd, st = None, None
        if child in names:
            with contextlib.suppress(FileNotFoundError):  # gone since the listing
                fd, st = inroot.open_entry(d, child)  # type: ignore[arg-type]
        try:
            is_dir = st is not None and stat.S_ISDIR(st.st_mode)
            if kind == "dir" or (kind is None and is_dir):
                info = _header(st, rel) if is_dir else _made(rel, tarfile.DIRTYPE, mtime)
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                sub = inroot.reopen(fd) if is_dir else None  # type: ignore[arg-type]
                try:
                    _tar_tree(tar, sub, rel + "/", mtime, links)
                finally:
                    if sub is not None:
                        os.close(sub)
            elif kind == "file":
                tar.addfile(_made(rel, tarfile.REGTYPE, mtime))
            elif kind is not None:
                info = _made(rel, tarfile.SYMTYPE, mtime)
                info.linkname, info.mode = kind, 0o777
                tar.addfile(info)
            elif fd is not None and st is not None:
                _tar_entry(tar, fd, st, rel, links)
        finally:
            if fd is not None:
                os.close(fd)


def _made(name: str, kind: bytes, mtime: float) -> tarfile.TarInfo:
    """A header for an init-layer entry: root's, mode 0755, as Docker's init layer makes them."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, 0o755, mtime
    info.uname = info.gname = "root"
    return info


def untar_to(
    manager: Any,
    source: Any,
    ctr: str,
    path: str,
    *,
    owners: bool = False,
    keep_kinds: bool = False,
) -> None:
    """Extract a tar stream into a container directory (``docker cp - CTR:DIR``, and the
    Engine API's ``PUT /containers/{id}/archive``).

    Entries are checked as Python's "data" filter does (no absolute names, no
    ``..`` or links leading out of the destination, no device nodes, no
    setuid), lexically, then created through ``inroot``: each entry's
    directory resolves inside the container and the entry is made in it by one
    name with ``O_NOFOLLOW``, so a symlink the container planted or swapped in
    leads only to the container's own path of that name.

    Entries belong to root, unless ``owners`` (the API's ``copyUIDGID``): then
    each keeps the archive's uid and gid. An existing directory is never
    replaced by a non-directory; with ``keep_kinds`` (the API's
    ``noOverwriteDirNonDir``, which ``docker cp`` sets) a non-directory, a
    planted symlink included, is not replaced by a directory either.
    """
    cpath = _container_path(path)
    with cpview.opened_view(manager, ctr, cpath, write=True, follow=True) as view:
        try:
            os.close(inroot.open_in_root(view.root, view.path, os.O_PATH | os.O_DIRECTORY))
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise NotFound(f"Could not find the file {path} in container {ctr}") from None
            if exc.errno not in _MISSING:
                raise
            raise InvalidArgument(
                f"destination {path} in container {ctr} must be a directory"
            ) from None
        dirs: list[tuple[int, str, float]] = []
        with (
            _reported(f"extracting into {path} in container {ctr}"),
            tarfile.open(fileobj=source, mode="r|*") as tar,
        ):
            for member in tar:
                try:
                    rel, mode = _filtered(member, cpath)
                except tarfile.FilterError as exc:
                    raise InvalidArgument(f"refusing an archive entry: {exc}") from None
                _extract(view, tar, member, rel, mode, dirs, owners, keep_kinds)
            for root, dpath, mtime in reversed(dirs):  # after their contents, as tarfile does
                with contextlib.suppress(OSError):
                    dfd = inroot.open_in_root(root, dpath, os.O_RDONLY | os.O_DIRECTORY)
                    try:
                        os.utime(dfd, (mtime, mtime))
                    finally:
                        os.close(dfd)


# -- tar -------------------------------------------------------------------------


class _Exactly(io.RawIOBase):
    """A file's bytes, exactly ``size`` of them: the tar header announced that size,
    and the container may grow or shrink the file while it is read (zeros pad it)."""

    def __init__(self, f: IO[bytes], size: int) -> None:
        self._f, self._left = f, size

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._f.read(n) if n else b""
        data += b"\0" * (n - len(data))
        self._left -= n
        return data


def _header(st: os.stat_result, name: str) -> tarfile.TarInfo:
    """A tar header for an entry's stat, with the owner names the host knows (as Docker's)."""
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid, info.mtime = st.st_uid, st.st_gid, st.st_mtime
    info.uname, info.gname = _user_name(st.st_uid), _group_name(st.st_gid)
    return info


@functools.cache
def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


@functools.cache
def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


def _tar_entry(
    tar: tarfile.TarFile,
    fd: int,
    st: os.stat_result,
    name: str,
    links: dict | None = None,
    below: cpview.Below | None = None,
) -> None:
    """Add the entry behind ``fd`` (``O_PATH``, not followed), recursively.

    With ``links``, a file seen before under another name (same inode) is
    archived as a hard link to it, as tar and Docker do. ``below``: the entry
    is a container's, and its mounts are read in place of their mount points.
    """
    info = _header(st, name)
    kind = stat.S_IFMT(st.st_mode)
    if kind == stat.S_IFDIR:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        d = inroot.reopen(fd)
        try:
            for child in sorted(os.listdir(d)):
                at = below.child(child) if below else None
                try:
                    cfd, cst = _open_child(d, child, at)
                except FileNotFoundError:
                    continue  # gone since the listing
                try:
                    _tar_entry(tar, cfd, cst, f"{name}/{child}", links, at)
                finally:
                    os.close(cfd)
        finally:
            os.close(d)
    elif kind == stat.S_IFREG:
        if links is not None and st.st_nlink > 1:
            first = links.setdefault((st.st_dev, st.st_ino), name)
            if first != name:
                info.type, info.linkname = tarfile.LNKTYPE, first
                tar.addfile(info)
                return
        info.size = st.st_size
        with os.fdopen(inroot.reopen(fd), "rb") as f:
            tar.addfile(info, _Exactly(f, st.st_size))
    elif kind == stat.S_IFLNK:
        info.type, info.linkname = tarfile.SYMTYPE, inroot.read_link(fd)
        tar.addfile(info)
    elif kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO):
        # a header only: nothing is opened (like tar, the archive records the node)
        info.type = {
            stat.S_IFCHR: tarfile.CHRTYPE,
            stat.S_IFBLK: tarfile.BLKTYPE,
            stat.S_IFIFO: tarfile.FIFOTYPE,
        }[kind]
        if kind != stat.S_IFIFO:
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        tar.addfile(info)
    # sockets cannot be archived: skipped, as tar does


class _SparseFileError(tarfile.FilterError):
    def __init__(self, tarinfo: tarfile.TarInfo) -> None:
        self.tarinfo = tarinfo
        super().__init__(f"{tarinfo.name!r} is a sparse file")


def _outside(rel: str) -> bool:
    return rel == ".." or rel.startswith("../")


def _filtered(member: tarfile.TarInfo, dest: str) -> tuple[str, int | None]:
    """Check an entry as ``tarfile.data_filter`` does, on names only (no host lookup).

    Returns the entry's normalized path relative to ``dest`` and the mode to give
    it (None: leave the default). Raises ``tarfile.FilterError`` with its texts.
    """
    if member.sparse is not None:  # a few bytes of map could declare terabytes of disk
        raise _SparseFileError(member)
    name = member.name.lstrip("/")
    rel = posixpath.normpath(name) if name else "."
    if _outside(rel):
        raise tarfile.OutsideDestinationError(member, posixpath.join(dest, name))
    if member.issym() or member.islnk():
        if member.linkname.startswith("/"):
            raise tarfile.AbsoluteLinkError(member)
        base = posixpath.dirname(rel) if member.issym() else ""
        if _outside(posixpath.normpath(posixpath.join(base, member.linkname))):
            raise tarfile.LinkOutsideDestinationError(
                member, posixpath.join(dest, base, member.linkname)
            )
    if member.isreg() or member.islnk():
        mode = member.mode & 0o755
        if not mode & 0o100:
            mode &= ~0o111
        return rel, mode | 0o600
    if member.isdir() or member.issym():
        return rel, None
    raise tarfile.SpecialFileError(member)


def _extract(
    view: cpview.View,
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    rel: str,
    mode: int | None,
    dirs: list[tuple[int, str, float]],
    owners: bool = False,
    keep_kinds: bool = False,
) -> None:
    """Create one archive entry at ``rel`` below the view's directory, in the tree its
    directory is in for the container (``View.place``: a mount's, links followed)."""
    if rel == ".":
        if not member.isdir():  # the destination directory itself, as a file: a bad archive
            raise InvalidArgument(f"refusing an archive entry: {member.name} is not a directory")
        dirs.append((view.root, view.path, member.mtime))
        return
    head, name = posixpath.split(rel)
    root, where, cdir = view.place(posixpath.join(view.cpath, head))
    target = posixpath.join(cdir, name)  # the container's path, for what is said
    top = view.mount_top(target, member.isdir())
    if top is not None:  # a mount's directory already: its contents go into the mount
        dirs.append((*top, member.mtime))
        return
    parent = inroot.make_dirs(root, where)
    try:
        if keep_kinds and member.isdir():
            with contextlib.suppress(FileNotFoundError):
                if not stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                    raise InvalidArgument(
                        f"cannot overwrite non-directory {target} with directory {member.name}"
                    )
        if member.isdir():
            dfd = inroot.make_dir(parent, name)
            try:
                if owners:
                    os.fchown(dfd, member.uid, member.gid)
            finally:
                os.close(dfd)
            dirs.append((root, posixpath.join(where, name), member.mtime))
        elif member.issym():
            inroot.make_symlink(parent, name, member.linkname)
            if owners:
                os.chown(name, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
            ns = int(member.mtime * 1e9)
            inroot.set_times(parent, name, ns, ns)
        elif member.islnk():
            lhead, lname = posixpath.split(posixpath.normpath(member.linkname))
            lroot, lwhere, _ = view.place(posixpath.join(view.cpath, lhead))
            with inroot.locate(lroot, posixpath.join(lwhere, lname), follow=False) as src:
                if src.name is None or src.st is None:
                    raise FileNotFoundError(
                        errno.ENOENT, "hard link target not found", member.linkname
                    )
                inroot.make_hardlink(src.dir_fd, src.name, parent, name)
        else:
            fd = inroot.create_file(parent, name)
            try:
                data = tar.extractfile(member)
                if data is not None:
                    while chunk := data.read(_CHUNK):
                        _write_all(fd, chunk)
                if owners:
                    os.fchown(fd, member.uid, member.gid)  # before the mode: chown clears it
                if mode is not None:
                    os.fchmod(fd, mode)
                os.utime(fd, (member.mtime, member.mtime))
            finally:
                os.close(fd)
    finally:
        os.close(parent)
