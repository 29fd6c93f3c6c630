"""What ``wharf stats`` shows of a container, from its counters: the one computation of it.

The counters (``ContainerManager.stats``) only grow; CPU % is their change
over the time between two samples, as Docker's daemon computes it (so the
first sample of a stream shows 0 %). The CLI's table and the site's live
charts both read a ``Usage`` from here.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

#: /proc/PID/net/dev's columns, receive then transmit, that Docker's stats name
_NET_FIELDS = {
    0: "rx_bytes",
    1: "rx_packets",
    2: "rx_errors",
    3: "rx_dropped",
    8: "tx_bytes",
    9: "tx_packets",
    10: "tx_errors",
    11: "tx_dropped",
}


def interface_counters(pid: int, proc: Path = Path("/proc")) -> dict[str, dict[str, int]]:
    """Each network interface of PID's namespace but loopback, with Docker's counters
    (``networks`` of its stats); empty when the process is gone."""
    try:
        lines = (proc / str(pid) / "net" / "dev").read_text().splitlines()[2:]
    except OSError:
        return {}
    out = {}
    for line in lines:
        name, _, counters = line.partition(":")
        values = counters.split()
        if name.strip() != "lo" and len(values) >= 16:
            out[name.strip()] = {key: int(values[i]) for i, key in _NET_FIELDS.items()}
    return out


@dataclass(frozen=True)
class Usage:
    """One sample: CPU % since the last one, memory (bytes and % of the limit), totals of
    network and block I/O bytes, and the number of processes."""

    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    net_rx: int
    net_tx: int
    blkio_read: int
    blkio_write: int
    pids: int

    def as_dict(self) -> dict:
        return asdict(self)


class UsageSampler:
    """Turn successive counter snapshots of containers into ``Usage`` samples."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[int, float]] = {}

    def prime(self, ctr_id: str, counters: dict, now: float | None = None) -> None:
        """Remember CTR_ID's CPU counter without making a sample (the start of an interval)."""
        self._last[ctr_id] = (counters["cpu_usage_ns"], time.monotonic() if now is None else now)

    def sample(self, ctr_id: str, counters: dict, now: float | None = None) -> Usage:
        now = time.monotonic() if now is None else now
        last = self._last.get(ctr_id)
        cpu = 0.0
        if last and now > last[1]:
            cpu = max(0.0, (counters["cpu_usage_ns"] - last[0]) / ((now - last[1]) * 1e9) * 100)
        self._last[ctr_id] = (counters["cpu_usage_ns"], now)
        usage, limit = counters["memory_usage"], counters["memory_limit"]
        return Usage(
            cpu_percent=round(cpu, 2),
            memory_usage=usage,
            memory_limit=limit,
            memory_percent=round(100 * usage / limit, 2) if limit else 0.0,
            net_rx=counters["net_rx"],
            net_tx=counters["net_tx"],
            blkio_read=counters["blkio_read"],
            blkio_write=counters["blkio_write"],
            pids=counters["pids"],
        )
