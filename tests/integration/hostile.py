"""What the attack tests share: a witness of host files that must not change, and the
entries of hostile tar archives (for cp, archive PUTs and image loads)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path


def snapshot(top: Path) -> dict[str, tuple]:
    """Every entry under ``top`` (itself included): kind, content or target, mode, mtime."""
    out: dict[str, tuple] = {}
    for path in [top, *sorted(top.rglob("*"))]:
        st = path.lstat()
        rel = path.relative_to(top).as_posix()
        if path.is_symlink():
            out[rel] = ("link", os.readlink(path), st.st_mtime_ns)
        elif path.is_dir():
            out[rel] = ("dir", st.st_mode, st.st_mtime_ns)
        else:
            out[rel] = ("file", path.read_bytes(), st.st_mode, st.st_mtime_ns)
    return out


KINDS = {
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "link": tarfile.LNKTYPE,
    "chr": tarfile.CHRTYPE,
    "blk": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}


def tar_entry(name: str, kind: str = "file", data: bytes = b"ATTACK\n", **extra: object):
    """A tar header (and its data, for a file) of KIND: file, dir, symlink, link, chr, blk,
    fifo; ``extra`` sets header fields (``linkname``, ``devmajor``, ...)."""
    info = tarfile.TarInfo(name)
    info.mode, info.mtime = 0o644, 1_600_000_000
    if kind == "file":
        info.size = len(data)
        return info, data
    info.type = KINDS[kind]
    for key, value in extra.items():
        setattr(info, key, value)
    return info, None


def sparse_entry(name: str, realsize: int):
    """A GNU sparse 0.1 entry (PAX): one byte stored, ``realsize`` bytes declared."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = 1, 0o644
    info.pax_headers = {"GNU.sparse.map": "0,1", "GNU.sparse.size": str(realsize)}
    return info, b"x"
