"""Read a container's json-file log: one {"log","stream","time"} record per line.

The shim appends whole lines only, so a reader never sees half a record;
following polls the file and stops once the container has exited and the
last bytes are read.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def read_log(
    path: Path,
    *,
    follow: bool = False,
    tail: int | None = None,
    since: str | None = None,
    running: Callable[[], bool] = lambda: False,
) -> Iterator[dict]:
    """Yield records (the last ``tail``, those at or after ``since``), then new ones if following."""
    pos = 0
    records: list[dict] = []
    # rotated files first, oldest (highest number) to newest (--log-opt max-file)
    rotated = sorted(
        (p for p in path.parent.glob(path.name + ".*") if p.suffix[1:].isdigit()),
        key=lambda p: -int(p.suffix[1:]),
    )
    for old in rotated:
        with contextlib.suppress(FileNotFoundError):
            records += [
                json.loads(ln.decode(errors="replace"))
                for ln in old.read_bytes().splitlines()
                if ln
            ]
    inode = None
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
        inode = os.fstat(f.fileno()).st_ino
        data = f.read()
        pos = data.rfind(b"\n") + 1
        records += [json.loads(line.decode(errors="replace")) for line in data[:pos].splitlines()]
    if since:
        records = [r for r in records if r["time"] >= since]
    if tail is not None and tail >= 0:
        records = records[len(records) - tail :] if tail else []
    yield from records
    if not follow:
        return
    buf = b""
    while True:
        alive = running()  # asked before reading, so the last lines are never missed
        with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_ino != inode or st.st_size < pos:  # rotated or truncated meanwhile
                inode, pos, buf = st.st_ino, 0, b""
            f.seek(pos)
            chunk = f.read()
            pos += len(chunk)
            buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if line:
                yield json.loads(line.decode(errors="replace"))
        if not alive:
            return
        time.sleep(0.05)
