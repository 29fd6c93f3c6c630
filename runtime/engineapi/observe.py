"""``/containers/{id}/top``, ``/stats`` and ``/changes``: looking at a container.

The numbers are ``wharf top``/``stats``/``diff``'s (``ContainerManager.top``,
``.stats``, ``.changes``); this module only gives them Docker's shapes. Stats
are raw counters, as dockerd sends them: the client computes CPU % from the
change of the container's CPU time against the host's (``precpu_stats`` is the
sample before), so a reply for ``stream=false`` samples twice, a second apart,
as dockerd does, and ``one-shot`` once.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

from runtime.engineapi.containers import open_runtime
from runtime.engineapi.http import Reply, Request, Router
from runtime.errors import Conflict, ContainerNotFound

router = Router()

#: ``docker diff``'s kinds on the wire (Docker's archive.ChangeType)
CHANGE_KINDS = {"C": 0, "A": 1, "D": 2}
#: Go's zero time, dockerd's ``preread`` before a first sample
ZERO_TIME = "0001-01-01T00:00:00Z"
INTERVAL = 1.0


@router.route("GET", "/containers/{id}/top")
def top(request: Request) -> dict:
    with open_runtime(request) as rt:
        titles, rows = rt.containers.top(request.params["id"], request.arg("ps_args") or "-ef")
    return {"Titles": titles, "Processes": [r + [""] * (len(titles) - len(r)) for r in rows]}


@router.route("GET", "/containers/{id}/changes")
def changes(request: Request) -> list[dict]:
    with open_runtime(request) as rt:
        found = rt.containers.changes(request.params["id"])
    return [{"Path": path, "Kind": CHANGE_KINDS[kind]} for kind, path in found]


def _cpu(counters: dict | None, system_ns: int) -> dict:
    if counters is None:
        return {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}
    return {
        "cpu_usage": {"total_usage": counters["cpu_usage_ns"]},
        "system_cpu_usage": system_ns,
        "online_cpus": os.cpu_count() or 1,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }


def stats_json(
    c: Any, now: tuple[dict, int, str] | None, pre: tuple[dict, int, str] | None
) -> dict:
    """Docker's StatsJSON from two samples (counters, host CPU ns, time); an empty one
    (what dockerd sends for a stopped container) without ``now``."""
    out: dict[str, Any] = {
        "read": ZERO_TIME,
        "preread": pre[2] if pre else ZERO_TIME,
        "pids_stats": {},
        "blkio_stats": {"io_service_bytes_recursive": None},
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": _cpu(None, 0),
        "precpu_stats": _cpu(pre[0], pre[1]) if pre else _cpu(None, 0),
        "memory_stats": {},
        "name": "/" + c.name,
        "id": c.id,
    }
    if now is None:
        return out
    counters, system_ns, read = now
    out.update(
        read=read,
        pids_stats={"current": counters["pids"]},
        blkio_stats={
            "io_service_bytes_recursive": [
                {"major": 0, "minor": 0, "op": "read", "value": counters["blkio_read"]},
                {"major": 0, "minor": 0, "op": "write", "value": counters["blkio_write"]},
            ]
        },
        cpu_stats=_cpu(counters, system_ns),
        memory_stats={
            # the page cache is already taken out (cgroup_stats), as the client would
            "usage": counters["memory_usage"],
            "stats": {},
            "limit": counters["memory_limit"],
        },
    )
    if counters["networks"]:  # dockerd leaves the key out for a container with no interface
        out["networks"] = counters["networks"]
    return out


def _sample(rt: Any, ctr_id: str) -> tuple[dict, int, str] | None:
    """The container's counters now, or None when it does not run."""
    from runtime.hostinfo import system_cpu_ns
    from runtime.timefmt import go_time, ns_to_rfc3339

    try:
        counters = rt.containers.stats(ctr_id)
    except Conflict:
        return None
    return counters, system_cpu_ns(), go_time(ns_to_rfc3339(time.time_ns()))


@router.route("GET", "/containers/{id}/stats")
def stats(request: Request) -> Reply:
    stream = request.flag("stream", default=True)
    one_shot = request.flag("one-shot")
    with open_runtime(request) as rt:
        c = rt.containers.get(request.params["id"])
        if not stream:
            first = _sample(rt, c.id)
            if first is None or one_shot:
                return Reply(200, stats_json(c, first, None))
            time.sleep(INTERVAL)
            return Reply(200, stats_json(c, _sample(rt, c.id), first))

    def body() -> Iterator[bytes]:
        gone = request.handler.gone  # type: ignore[attr-defined]
        pre = None
        with open_runtime(request) as rt:
            while not gone.is_set():
                try:
                    current = rt.containers.get(c.id)
                except ContainerNotFound:
                    return  # removed: dockerd ends the stream too
                now = _sample(rt, c.id) if current.running else None
                yield json.dumps(stats_json(current, now, pre)).encode() + b"\n"
                pre = now
                gone.wait(INTERVAL)

    return Reply(200, stream=body())
