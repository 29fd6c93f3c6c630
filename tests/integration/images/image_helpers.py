"""Helpers of the image tests: build layer tars, take a before/after view of a store."""

from __future__ import annotations

import io
import os
import tarfile

from runtime import Runtime


def store_state(rt: Runtime) -> dict:
    """Everything the image store holds: files under the root and rows of its tables."""
    root = rt.paths.root
    files = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            if rel.startswith(("wharf.db", "images.lock", "tmp")):
                continue  # the database is compared by rows, staging below
            files.add(rel)
    leftovers = (
        sorted(os.listdir(root / "tmp" / "images")) if (root / "tmp" / "images").is_dir() else []
    )
    conn = rt.images.conn
    rows = {
        t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}"))  # noqa: S608
        for t in ("images", "image_refs", "layers", "image_chain", "layer_blobs")
    }
    return {"files": files, "staging": leftovers, "rows": rows}


def make_tar(entries: list[tuple], compress: str = "none") -> bytes:
    """Build a layer tar from (name, kind, extra) tuples: kind file|dir|symlink|link|chr|fifo."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            name, kind = entry[0], entry[1]
            extra = entry[2] if len(entry) > 2 else {}
            info = tarfile.TarInfo(name)
            info.mtime = extra.get("mtime", 1_600_000_000)
            info.uid, info.gid = extra.get("uid", 0), extra.get("gid", 0)
            info.mode = extra.get("mode", 0o755 if kind == "dir" else 0o644)
            info.pax_headers = extra.get("pax", {})
            data = None
            if kind == "file":
                data = extra.get("data", b"")
                info.size = len(data)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, extra["target"]
            elif kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, extra["target"]
            elif kind == "chr":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, *extra["dev"]
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = buf.getvalue()
    if compress == "gzip":
        import gzip

        return gzip.compress(raw)
    if compress == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(raw)
    return raw
