"""List one directory of a volume's files, read-only, never leaving the volume.

A volume's files are written by its containers, which may plant symlinks
(``escape -> /``, ``up -> ../../..``) or swap a directory for a link at any
moment. The path asked for is therefore resolved by the kernel inside the
volume's data directory (``openat2(RESOLVE_IN_ROOT)``, see
``runtime.containers.inroot``): ``/``, ``..`` and every link target, absolute
or relative, stop at the volume's top, atomically. The directory is then read
through the fd it was opened as, and each entry is looked at without following
it (``lstat`` relative to that fd), so a link is listed as a link with its
target text, never entered. Nothing is opened for reading but directories.
"""

from __future__ import annotations

import os
import posixpath
import stat
from datetime import UTC, datetime
from pathlib import Path

from runtime.containers.inroot import open_in_root, opened_root, require_openat2
from runtime.errors import InvalidArgument, NotFound

#: the most entries one listing returns (the rest are counted, not listed)
LIMIT = 1000


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


def list_dir(top: Path, path: str = "/", limit: int = LIMIT) -> dict:
    """List PATH inside the tree TOP as ``{"path", "entries", "total", "truncated"}``.

    Entries are directories first, then by name: ``name``, ``type``, ``size``,
    ``mode`` (as ``ls -l`` shows it), ``modified`` (ISO, UTC) and, for a symlink,
    ``target`` (its text, not followed). Raises ``NotFound`` for a path that is
    not there and ``InvalidArgument`` for one that is not a directory.
    """
    if "\0" in path or len(path) > 4096:
        raise InvalidArgument("a path without NUL bytes, at most 4096 characters")
    shown = posixpath.normpath("/" + path)
    require_openat2()
    with opened_root(top) as root:
        try:
            fd = open_in_root(root, shown, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            raise NotFound(f"no such directory in the volume: {shown}") from None
        except NotADirectoryError:
            raise InvalidArgument(f"not a directory: {shown}") from None
        try:
            entries, total = [], 0
            with os.scandir(fd) as found:
                for entry in found:
                    total += 1
                    if len(entries) >= 10 * limit:
                        continue  # counted, not looked at: a huge directory costs no memory
                    st = entry.stat(follow_symlinks=False)
                    item = {
                        "name": entry.name,
                        "type": _kind(st.st_mode),
                        "size": st.st_size,
                        "mode": stat.filemode(st.st_mode),
                        "modified": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(),
                    }
                    if stat.S_ISLNK(st.st_mode):
                        item["target"] = os.readlink(entry.name, dir_fd=fd)
                    entries.append(item)
        finally:
            os.close(fd)
    entries.sort(key=lambda e: (e["type"] != "directory", e["name"]))
    return {
        "path": shown,
        "entries": entries[:limit],
        "total": total,
        "truncated": total > limit,
    }
