"""``POST /containers/{id}/update``: a container's limits and restart policy, changed live.

The body is Docker's UpdateConfig (the create body's Resources and
RestartPolicy); the client sends every field, a zero meaning "leave it". The
change is ``wharf update``'s (``ContainerManager.update``): checked as a new
spec, written to the running container's cgroup, then recorded.
"""

from __future__ import annotations

from typing import Any

from runtime.engineapi.containers import open_runtime
from runtime.engineapi.http import HTTPError, Request, Router

router = Router()

#: UpdateConfig fields whose non-zero value replaces the spec's
_FIELDS = {
    "Memory": "memory",
    "MemorySwap": "memory_swap",
    "MemoryReservation": "memory_reservation",
    "CpuShares": "cpu_shares",
    "CpuPeriod": "cpu_period",
    "CpuQuota": "cpu_quota",
    "BlkioWeight": "blkio_weight",
}


def _changes(body: dict) -> dict[str, Any]:
    """The body as ``ContainerManager.update``'s keyword arguments."""
    from runtime.engineapi.create import _restart

    changes: dict[str, Any] = {}
    try:
        for key, name in _FIELDS.items():
            if body.get(key):
                changes[name] = int(body[key])
        if body.get("NanoCpus"):
            changes["cpus"] = int(body["NanoCpus"]) / 1e9
        if body.get("PidsLimit") is not None:  # a pointer in Docker's: 0 and -1 lift the limit
            changes["pids_limit"] = max(int(body["PidsLimit"]), 0)
    except (TypeError, ValueError) as exc:
        raise HTTPError(400, f"invalid update: {exc}") from None
    for key, name in (("CpusetCpus", "cpuset_cpus"), ("CpusetMems", "cpuset_mems")):
        if body.get(key):
            changes[name] = str(body[key])
    policy = body.get("RestartPolicy") or {}
    if not isinstance(policy, dict):
        raise HTTPError(400, "invalid update: RestartPolicy must be an object")
    if policy.get("Name"):
        changes["restart"] = _restart(policy)
    return changes


@router.route("POST", "/containers/{id}/update")
def update(request: Request) -> dict:
    body = request.json()
    if not isinstance(body, dict):
        raise HTTPError(400, "invalid update: expected a JSON object")
    changes = _changes(body)
    with open_runtime(request) as rt:
        rt.containers.update(request.params["id"], **changes)
    return {"Warnings": []}
