"""Read a container's json-file log: one {"log","stream","time"} record per line.

The shim appends whole lines only, so a reader never sees half a record;
following polls the file and stops once the container has exited and the
last bytes are read.
"""

from __future__ import annotations

import contextlib
import json
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
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
        data = f.read()
        pos = data.rfind(b"\n") + 1
        records = [json.loads(line.decode(errors="replace")) for line in data[:pos].splitlines()]
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
