"""Volume and network jobs: create, remove, prune, connect, disconnect.

Creating a volume or a network of a name that exists already gives the
existing one back (Docker's rule for volumes; for networks a redelivered
create finds the one its first run made), so both are safe to run again.
"""

from __future__ import annotations

from runtime.errors import Conflict
from worker.jobs.engine import JOB_LABEL, engine
from worker.runner import JobContext, handles


def _labels(ctx: JobContext) -> dict[str, str]:
    _, _, job = ctx.idempotency_key.partition("=")
    return {**(ctx.params.get("labels") or {}), JOB_LABEL: job}


@handles("volume.create")
def volume_create(ctx: JobContext) -> dict:
    with engine() as rt:
        volume = rt.volumes.create(ctx.params.get("name") or None, labels=_labels(ctx))
    ctx.log(volume.name)
    return {"volume": volume.name}


@handles("volume.remove")
def volume_remove(ctx: JobContext) -> dict:
    with engine() as rt:
        rt.volumes.remove(ctx.params["name"], force=ctx.params.get("force", False))
    ctx.log(ctx.params["name"])
    return {"removed": ctx.params["name"]}


@handles("volume.prune")
def volume_prune(ctx: JobContext) -> dict:
    with engine() as rt:
        report = rt.volumes.prune(all=ctx.params.get("all", False))
    for name in report.get("VolumesDeleted") or []:
        ctx.log(f"deleted {name}")
    return report


@handles("network.create")
def network_create(ctx: JobContext) -> dict:
    name = ctx.params["name"]
    with engine() as rt:
        try:
            network = rt.networks.create(
                name,
                subnet=ctx.params.get("subnet"),
                internal=ctx.params.get("internal", False),
                labels=_labels(ctx),
            )
        except Conflict:
            network = rt.networks.get(name)
            if network.labels.get(JOB_LABEL) != ctx.idempotency_key.partition("=")[2]:
                raise  # someone else's network of that name
            ctx.log(f"network {name} was made by this job's first run")
    ctx.log(network.id)
    return {"network": network.id, "name": name}


@handles("network.remove")
def network_remove(ctx: JobContext) -> dict:
    with engine() as rt:
        network = rt.networks.remove(ctx.params["network"])
    ctx.log(network.name)
    return {"removed": network.id}


@handles("network.prune")
def network_prune(ctx: JobContext) -> dict:
    with engine() as rt:
        removed = rt.networks.prune()
    for name in removed:
        ctx.log(f"deleted {name}")
    return {"removed": removed}


@handles("network.connect")
def network_connect(ctx: JobContext) -> dict:
    with engine() as rt:
        rt.networks.connect(
            ctx.params["network"], ctx.params["container"], aliases=ctx.params.get("aliases")
        )
    return {"network": ctx.params["network"], "container": ctx.params["container"]}


@handles("network.disconnect")
def network_disconnect(ctx: JobContext) -> dict:
    with engine() as rt:
        rt.networks.disconnect(
            ctx.params["network"], ctx.params["container"], force=ctx.params.get("force", False)
        )
    return {"network": ctx.params["network"], "container": ctx.params["container"]}


@handles("volume.files")
def volume_files(ctx: JobContext) -> dict:
    """One directory of a volume, never outside it (``runtime.volumes.browse``)."""
    with engine() as rt:
        listing = rt.volumes.files(ctx.params["name"], ctx.params.get("path") or "/")
    ctx.log(f"{listing['path']}: {listing['total']} entries")
    return listing
