"""What a container changed in its filesystem (``docker diff``), read from its overlay.

The container's upper directory holds everything it wrote: a new or replaced
entry is there as itself, a deleted one as a whiteout (a 0/0 character device).
An entry is Added when no lower layer has it, Changed when one does, Deleted
for a whiteout; a directory the upper holds only because something below it
changed counts as Changed only when it differs from the image's (mode, size or
mtime), and the parent of an added or deleted entry always counts — Docker's
rules (pkg/archive/changes.go), in Docker's order (a walk, names sorted).

The upper directory is the container's to shape while it runs, so it is
walked with ``os.fwalk`` (directory fds, symlinks never followed) and the lower
layers are looked into one component at a time, never through a symlink.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

ADDED, CHANGED, DELETED = "A", "C", "D"


def changes(upper: Path, lowers: list[Path]) -> list[tuple[str, str]]:
    """Return ``(kind, path)`` pairs for what ``upper`` changes over ``lowers`` (top first)."""
    out: list[tuple[str, str]] = []
    changed_dirs: set[str] = set()
    for top, dirs, files, top_fd in os.fwalk(upper, follow_symlinks=False):
        dirs.sort()
        rel_top = "/" + os.path.relpath(top, upper) if top != str(upper) else "/"
        entries = sorted([(d, True) for d in dirs] + [(f, False) for f in files])
        # os.fwalk lists a directory's files before descending, Docker's walk goes in
        # name order with subdirectories in place: collect this level, then recurse
        for name, is_dir in entries:
            path = rel_top.rstrip("/") + "/" + name
            try:
                st = os.stat(name, dir_fd=top_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            _record(out, changed_dirs, path, st, lowers, is_dir)
    return _in_walk_order(out)


def _record(
    out: list[tuple[str, str]],
    changed_dirs: set[str],
    path: str,
    st: os.stat_result,
    lowers: list[Path],
    is_dir: bool,
) -> None:
    whiteout = stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    below = _lower_stat(lowers, path)
    if whiteout:
        kind = DELETED
    elif below is None:
        kind = ADDED
    else:
        if (
            is_dir
            and stat.S_ISDIR(below.st_mode)
            and below.st_mode == st.st_mode
            and below.st_size == st.st_size
            and int(below.st_mtime) == int(st.st_mtime)
        ):
            return  # only the parent of a change: the change itself is reported
        kind = CHANGED
    if is_dir:
        changed_dirs.add(path)
    if kind in (ADDED, DELETED):
        parent = os.path.dirname(path)
        if parent != "/" and parent not in changed_dirs:
            out.append((CHANGED, parent))
            changed_dirs.add(parent)
    out.append((kind, path))


def _lower_stat(lowers: list[Path], path: str) -> os.stat_result | None:
    """The stat of ``path`` in the first lower layer that has it (a whiteout hides it)."""
    parts = [p for p in path.split("/") if p]
    for layer in lowers:
        current = layer
        st: os.stat_result | None = None
        for i, part in enumerate(parts):
            current = current / part
            try:
                st = os.lstat(current)
            except OSError:
                st = None
                break
            if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
                st = None  # a symlink or file on the way: not this layer's path
                break
        if st is not None:
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                return None  # deleted in this layer
            return st
    return None


def _in_walk_order(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Sort as a depth-first walk in name order: a directory, then what is inside it."""
    return sorted(items, key=lambda item: item[1].split("/"))
