"""Where a container path is, as the container sees it: its rootfs or one of its mounts.

``docker cp`` resolves a path in the container's own mount namespace, so a path
at or below a volume's or a bind's destination is the mount's, and a symlink
leads where it leads for the container: ``/link -> /data`` with a volume on
``/data`` is the volume. Wharf copies from the host, so it puts that view
together here: each path is walked component by component from the
container's ``/``, every symlink on the way (and the last one, when the
operation follows it) read and followed as the container would follow it,
across mounts; then the tree the resolved path lies in — the mount at the
longest destination at or above it, else the rootfs — is opened and the copy
goes on inside that tree alone (``runtime.containers.inroot``: openat2
``RESOLVE_IN_ROOT``). A container that swaps a link between this walk and the
copy changes which of its own trees the copy lands in, never more: each
lookup stays inside the tree it was opened in.

A copy out of a directory that holds mounts takes their contents, as Docker's
does: the walk (``Below``) knows the container path of each entry it meets,
and at a mount's destination it reads the mount's source instead of the
rootfs's empty mount point.

A copy into a directory that holds mounts writes into them, as Docker's does
(it mounts them for the copy): a copy's entry at a mount's destination is the
mount's directory (its read-only flag honoured), an archive's entries are each
placed by the same walk, links followed across mounts as the container follows
them. A mount point is never replaced: a file at a file bind's destination is
refused (Docker's "device or resource busy").

Mount sources are opened, never walked by path: a bind's recorded source is
opened one component at a time without following a symlink and checked against
the host's bind policy again (``runtime.volumes.policy.pin_bind_source``), so a
container that writes one bind (``/srv/share``) cannot turn the source of
another bind below it (``/srv/share/cfg``) into a link to the host's ``/etc``.

tmpfs mounts live in the container's memory only and, as in Docker, are not
seen (the rootfs's empty directory under them is).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.config import Paths
from runtime.containers import inroot
from runtime.errors import Conflict, ReadOnly
from runtime.volumes import policy


@dataclass(frozen=True)
class Mount:
    """A volume or bind of the container: where it shows, what backs it, writable or not.

    ``bind``: the source is a host path of the user's (pinned and checked against
    the bind policy at each open), not one of Wharf's own volume directories."""

    dest: str
    source: str
    rw: bool
    bind: bool = False


class _Trees:
    """The container's trees, each opened once when a lookup first needs it."""

    def __init__(
        self,
        stack: contextlib.ExitStack,
        rootfs: Callable[[], contextlib.AbstractContextManager[Path]],
        mounts: list[Mount],
        paths: Paths,
        read_only: bool,
    ) -> None:
        self._stack, self._rootfs, self.mounts = stack, rootfs, mounts
        self._paths, self.read_only = paths, read_only
        self.by_dest = {m.dest: m for m in mounts}
        self._open: dict[str, tuple[int, str]] = {}

    def open_source(self, mount: Mount) -> int:
        """An ``O_PATH`` fd of ``mount``'s source; the caller closes it. A bind's is
        pinned (no symlink on the way, the policy checked again); a volume's directory
        is Wharf's own, out of every container's reach."""
        if mount.bind:
            return policy.pin_bind_source(self._paths, mount.source)
        return os.open(mount.source, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def tree(self, mount: Mount | None) -> tuple[int, str]:
        """The root fd of the tree ``mount`` (None: the rootfs) is, and the path of the
        mount's top in it: "" for a directory, ``/NAME`` for a file bound alone, whose
        tree is its directory (checked to still hold that very file)."""
        key = mount.dest if mount is not None else ""
        if key in self._open:
            return self._open[key]
        if mount is None:
            root = self._stack.enter_context(
                inroot.opened_root(self._stack.enter_context(self._rootfs()))
            )
            self._open[key] = (root, "")
            return self._open[key]
        fd = self.open_source(mount)
        self._stack.callback(os.close, fd)
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            self._open[key] = (fd, "")
            return self._open[key]
        head, name = os.path.split(mount.source)
        parent = policy.open_unlinked(head)
        self._stack.callback(os.close, parent)
        there = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if (there.st_dev, there.st_ino) != (st.st_dev, st.st_ino):
            raise Conflict(f"bind source {mount.source} changed while it was opened")
        self._open[key] = (parent, "/" + name)
        return self._open[key]

    def mount_of(self, plain: str) -> Mount | None:
        """The mount at the longest destination that is ``plain`` or above it."""
        best = None
        for m in self.mounts:
            if (plain == m.dest or plain.startswith(m.dest.rstrip("/") + "/")) and (
                best is None or len(m.dest) > len(best.dest)
            ):
                best = m
        return best

    def locate(self, cpath: str) -> tuple[Mount | None, int, str]:
        """The tree ``cpath`` (normalised, absolute) lies in, its root fd, the path in it."""
        mount = self.mount_of(cpath)
        root, lead = self.tree(mount)
        if mount is None:
            return None, root, cpath
        rest = cpath[len(mount.dest.rstrip("/")) :]
        return mount, root, lead + rest or "/"

    def writable(self, mount: Mount | None) -> None:
        """Raise ``ReadOnly`` (the API's 403) unless the tree of ``mount`` takes writes."""
        if mount is None:
            if self.read_only:
                raise ReadOnly("container rootfs is marked read-only")
        elif not mount.rw:
            raise ReadOnly("mounted volume is marked read-only")

    def mount_root(self, cpath: str, is_dir: bool) -> int | None:
        """For an entry a copy makes at ``cpath`` (``is_dir``: a directory): None when no
        mount is there, else the root fd of the mount's directory (held by the trees),
        the entry's contents to go there; ``busy`` when the entry or the mount is not a
        directory (a mount point is never replaced), ``ReadOnly`` when the mount takes
        no writes."""
        mount = self.by_dest.get(cpath)
        if mount is None:
            return None
        root, lead = self.tree(mount)
        if lead or not is_dir:
            raise busy(cpath)
        self.writable(mount)
        return root

    def _link(self, cpath: str) -> str | None:
        """The text of the symlink at ``cpath``, read in the tree it lies in, or None."""
        _, root, rel = self.locate(cpath)
        return inroot.link_at(root, rel)

    def resolve(self, cpath: str, follow_last: bool = True) -> str:
        """``cpath`` with its symlinks followed as the container follows them, across its
        mounts: every component but the last, and the last too with ``follow_last`` or
        a trailing ``/`` or ``/.`` (kept). A loop leaves the path as written."""
        suffix = "/." if cpath.endswith("/.") else "/" if cpath.endswith("/") else ""
        path = inroot.follow_links(cpath, self._link, follow_last or bool(suffix))
        if path is None:
            return cpath
        return path.rstrip("/") + suffix if suffix else path


class Below:
    """Where a walk of the container's files is: the container path of the entry it is
    at, and the container's trees, whose mounts are read (and written) in place of the
    rootfs's mount points the walk meets."""

    def __init__(self, at: str, trees: _Trees) -> None:
        self.at, self._trees = at, trees

    def child(self, name: str) -> Below:
        return Below(posixpath.join(self.at, name), self._trees)

    def open_mount(self) -> tuple[int, os.stat_result] | None:
        """An ``O_PATH`` fd and stat of the source of the mount at this entry, if any."""
        mount = self._trees.by_dest.get(self.at)
        if mount is None:
            return None
        fd = self._trees.open_source(mount)
        try:
            return fd, os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise

    def open_mount_dir(self, is_dir: bool) -> int | None:
        """For an entry a copy makes here: None when no mount is here, else a directory
        fd to write the mount through (``_Trees.mount_root``'s refusals)."""
        root = self._trees.mount_root(self.at, is_dir)
        return None if root is None else inroot.reopen(root, os.O_RDONLY | os.O_DIRECTORY)


def busy(cpath: str) -> Conflict:
    """The error of a copy that would replace a mount point (Docker's is the OS's EBUSY)."""
    return Conflict(f"cannot replace {cpath}: it is a mount point (device or resource busy)")


class View:
    """An open tree of a container (its rootfs, or one mount) and a path in it.

    ``path`` is the path in the tree (``root``), ``cpath`` the container path it is
    (its links followed, normalised). ``top``: the path names a mount itself
    (``/data``, ``/data/``), an entry of its parent, not its contents. ``below``
    where a copy out of it or into it starts (None: the container has no mounts).
    """

    def __init__(
        self, trees: _Trees, root: int, path: str, cpath: str, below: Below | None, top: bool
    ) -> None:
        self._trees = trees
        self.root, self.path, self.cpath, self.below, self.top = root, path, cpath, below, top

    def resolve(self, cpath: str) -> str:
        """The container path ``cpath`` leads to, every link followed across mounts."""
        return self._trees.resolve(cpath)

    def place(self, cdir: str) -> tuple[int, str, str]:
        """Where a copy writes the directory ``cdir`` (a container path, perhaps not there
        yet): the root fd of its tree, its path there, and the container path it is, its
        links followed across mounts. Refused (``ReadOnly``) in a tree that takes no
        writes. Without mounts, the rootfs's own lookups follow the links."""
        if self.below is None:
            return self.root, cdir, cdir
        resolved = posixpath.normpath(self._trees.resolve(cdir))
        mount, root, rest = self._trees.locate(resolved)
        self._trees.writable(mount)
        return root, rest, resolved

    def mount_top(self, cpath: str, is_dir: bool) -> tuple[int, str] | None:
        """``_Trees.mount_root`` for an archive's entry at ``cpath``, as a place: the
        mount's root fd and its path in it ("/")."""
        root = self._trees.mount_root(cpath, is_dir)
        return None if root is None else (root, "/")


@contextlib.contextmanager
def opened_view(
    manager: Any, ctr: str, cpath: str, *, write: bool = False, follow: bool = False
) -> Iterator[View]:
    """Open the tree ``cpath`` lives in, the path resolved as the container sees it
    (``follow``: its last component too, as ``cp -L`` and a copy's destination do).

    Writes are refused into a read-only mount, or into the rootfs of a
    ``--read-only`` container (``ReadOnly``, the API's 403).
    """
    c = manager.get(ctr)
    mounts = [
        Mount(m["Destination"].rstrip("/") or "/", m["Source"], bool(m["RW"]), m["Type"] == "bind")
        for m in manager.rt.volumes.mounts_json(c.id)
        if m["Type"] != "tmpfs" and m["Source"]
    ]
    with contextlib.ExitStack() as stack:
        trees = _Trees(
            stack,
            lambda: manager.mounted_rootfs(c.id),
            mounts,
            manager.rt.paths,
            bool(c.spec.read_only),
        )
        # without mounts every path is the rootfs's, and inroot follows its links there
        path = trees.resolve(cpath, follow) if mounts else cpath
        plain = posixpath.normpath(path)
        below = Below(plain, trees) if mounts else None
        mount, root, rest = trees.locate(plain)
        if write:
            trees.writable(mount)
        if mount is None:
            yield View(trees, root, path, plain, below, top=False)
            return
        rest = rest.rstrip("/") if rest != "/" else ""
        if path.endswith("/."):
            rest += "/."
        elif path.endswith("/"):
            rest += "/"
        top = plain == mount.dest and not path.endswith("/.")
        yield View(trees, root, rest or "/", plain, below, top=top)
