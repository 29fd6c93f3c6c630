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
    until: str | None = None,
    running: Callable[[], bool] = lambda: False,
) -> Iterator[dict]:
    """Return the records (the last ``tail``, those at or after ``since``), then new ones
    if following.

    What the files hold is read at the call, not at the first ``next``: a reader that
    answers first and reads later (an HTTP stream) still has what was written when it
    was asked, after the container and its log are removed, as ``docker logs`` does.
    ``until`` ends the stream at the first record written after it, following or not.
    """
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
    inode, pos = None, 0
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
        inode = os.fstat(f.fileno()).st_ino
        data = f.read()
        pos = data.rfind(b"\n") + 1
        records += [json.loads(line.decode(errors="replace")) for line in data[:pos].splitlines()]
    if since:
        records = [r for r in records if r["time"] >= since]
    if until:
        records = [r for r in records if r["time"] <= until]
    if tail is not None and tail >= 0:
        records = records[len(records) - tail :] if tail else []
    if not follow or (until and until < _now()):
        return iter(records)
    return _follow(records, path, inode, pos, until, running)


def _follow(
    records: list[dict],
    path: Path,
    inode: int | None,
    pos: int,
    until: str | None,
    running: Callable[[], bool],
) -> Iterator[dict]:
    """Yield what was read, then the lines appended from ``pos`` until ``running`` says no."""
    yield from records
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
                record = json.loads(line.decode(errors="replace"))
                if until and record["time"] > until:
                    return
                yield record
        if not alive or (until and until < _now()):
            return
        time.sleep(0.05)


def _now() -> str:
    from runtime.timefmt import ns_to_rfc3339

    return ns_to_rfc3339(time.time_ns())
