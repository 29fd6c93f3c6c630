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

tmpfs mounts live in the container's memory only and, as in Docker, are not
seen (the rootfs's empty directory under them is).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.containers import inroot
from runtime.errors import ReadOnly


@dataclass(frozen=True)
class Mount:
    """A volume or bind of the container: where it shows, what backs it, writable or not."""

    dest: str
    source: str
    rw: bool


class Below:
    """Where a walk of the container's files is: the container path of the entry it is
    at, and the container's mounts by destination, to be read in place of the rootfs's
    mount points it meets below."""

    def __init__(self, at: str, mounts: dict[str, Mount]) -> None:
        self.at, self._mounts = at, mounts

    def child(self, name: str) -> Below:
        return Below(posixpath.join(self.at, name), self._mounts)

    def open_mount(self) -> tuple[int, os.stat_result] | None:
        """An ``O_PATH`` fd and stat of the source of the mount at this entry, if any."""
        mount = self._mounts.get(self.at)
        if mount is None:
            return None
        fd = os.open(mount.source, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            return fd, os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise


class View:
    """An open tree of a container (its rootfs, or one mount) and a path in it.

    ``prefix`` is the container path of the tree's root ("" for the rootfs): what a
    path found in the tree is, seen from the container. ``top``: the path names the
    mount itself (``/data``, ``/data/``), an entry of its parent, not its contents.
    ``resolve`` is the walk that found it, for a symlink's final container path;
    ``below`` where a copy out of it starts (None: the container has no mounts).
    """

    def __init__(
        self,
        root: int,
        path: str,
        prefix: str,
        resolve: Callable[[str], str],
        below: Below | None,
        top: bool = False,
    ) -> None:
        self.root, self.path, self.prefix, self.top = root, path, prefix, top
        self.resolve, self.below = resolve, below


class _Trees:
    """The container's trees, each opened once when a lookup first needs it."""

    def __init__(
        self,
        stack: contextlib.ExitStack,
        rootfs: Callable[[], contextlib.AbstractContextManager[Path]],
        mounts: list[Mount],
    ) -> None:
        self._stack, self._rootfs, self.mounts = stack, rootfs, mounts
        self._open: dict[str, int] = {}

    def _root(self, path: str | None) -> int:
        key = path or ""
        if key not in self._open:
            where = path if path is not None else self._stack.enter_context(self._rootfs())
            self._open[key] = self._stack.enter_context(inroot.opened_root(where))
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
        if mount is None:
            return None, self._root(None), cpath
        rest = cpath[len(mount.dest.rstrip("/")) :]
        source = mount.source
        if not os.path.isdir(source):  # a file bound alone: its directory, its name
            source, rest = os.path.dirname(source), "/" + os.path.basename(source) + rest
        return mount, self._root(source), rest or "/"

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
        Mount(m["Destination"].rstrip("/") or "/", m["Source"], bool(m["RW"]))
        for m in manager.rt.volumes.mounts_json(c.id)
        if m["Type"] != "tmpfs" and m["Source"]
    ]
    with contextlib.ExitStack() as stack:
        trees = _Trees(stack, lambda: manager.mounted_rootfs(c.id), mounts)
        # without mounts every path is the rootfs's, and inroot follows its links there
        path = trees.resolve(cpath, follow) if mounts else cpath
        below = Below(posixpath.normpath(path), {m.dest: m for m in mounts}) if mounts else None
        mount = trees.mount_of(posixpath.normpath(path))
        if mount is None:
            if write and c.spec.read_only:
                raise ReadOnly("container rootfs is marked read-only")
            _, root, _ = trees.locate("/")
            yield View(root, path, "", trees.resolve, below)
            return
        if write and not mount.rw:
            raise ReadOnly("mounted volume is marked read-only")
        _, root, rest = trees.locate(posixpath.normpath(path))
        rest = rest.rstrip("/") if rest != "/" else ""
        if path.endswith("/."):
            rest += "/."
        elif path.endswith("/"):
            rest += "/"
        top = posixpath.normpath(path) == mount.dest and not path.endswith("/.")
        yield View(root, rest or "/", mount.dest.rstrip("/"), trees.resolve, below, top=top)
