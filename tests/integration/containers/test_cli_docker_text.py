"""Docker's text for the reporting verbs: stats, ps -s/--no-trunc, port, history -H,
diff, version, system df/prune. The expected text is Docker 20.10's, written here."""

from __future__ import annotations

import re

SIZE = r"\d+(\.\d+)?(B|kB|MB|GB)"


def columns(line: str) -> list[str]:
    """A table row's cells (Docker pads cells with at least three spaces)."""
    return re.split(r"\s{3,}", line.strip())


def test_stats_shows_net_and_block_io_and_memory_in_binary_units(wharf):
    cid = wharf(
        "run", "-d", "-m", "64m", "--name", "busy", "busybox", "sh", "-c",
        "dd if=/dev/zero of=/tmp/f bs=1k count=64 2>/dev/null; sync; sleep 60",
    ).stdout.strip()  # fmt: skip
    lines = wharf("stats", "--no-stream", "busy").stdout.splitlines()
    assert columns(lines[0]) == [
        "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O",
        "PIDS",
    ]  # fmt: skip
    row = columns(lines[1])
    assert row[0] == cid[:12] and row[1] == "busy"
    assert re.fullmatch(r"\d+(\.\d+)?(B|KiB|MiB) / 64MiB", row[3]), row[3]
    assert re.fullmatch(f"{SIZE} / {SIZE}", row[5]), row[5]
    assert re.fullmatch(f"{SIZE} / {SIZE}", row[6]), row[6]
    full = wharf("stats", "--no-stream", "--no-trunc", "busy").stdout.splitlines()[1]
    assert columns(full)[0] == cid
    wharf("rm", "-f", cid)
