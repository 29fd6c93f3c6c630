"""Image jobs: pull (with per-layer progress), tag, remove, prune."""

from __future__ import annotations

from runtime.images.progress import Progress, human_size, throttled
from worker.jobs.engine import engine
from worker.runner import JobContext, handles


def progress_to(ctx: JobContext):  # noqa: ANN201 - a progress callback
    def report(p: Progress) -> None:
        ctx.check_cancelled()
        amount = f" {human_size(p.current)}/{human_size(p.total)}" if p.total else ""
        ctx.log(f"{p.id}: {p.status}{amount}" if p.id else p.status)

    return throttled(report, interval=0.5)


@handles("image.pull")
def pull(ctx: JobContext) -> dict:
    reference = ctx.params["reference"]
    with engine() as rt:
        image = rt.images.pull(reference, progress=progress_to(ctx))
        ctx.log(f"Digest: {image.id}")
        ctx.log(f"Status: pulled {reference}")
        return {"image": image.id, "reference": reference}


@handles("image.tag")
def tag(ctx: JobContext) -> dict:
    with engine() as rt:
        rt.images.tag(ctx.params["image"], ctx.params["target"])
        image = rt.images.get(ctx.params["target"])
    ctx.log(f"tagged {image.short_id} as {ctx.params['target']}")
    return {"image": image.id, "reference": ctx.params["target"]}


@handles("image.remove")
def remove(ctx: JobContext) -> dict:
    with engine() as rt:
        removed = rt.images.remove(ctx.params["image"], force=ctx.params.get("force", False))
    for entry in removed:
        for what, value in entry.items():
            ctx.log(f"{what}: {value}")
    return {"removed": removed}


@handles("image.prune")
def prune(ctx: JobContext) -> dict:
    with engine() as rt:
        report = rt.images.prune(all=ctx.params.get("all", False))
    ctx.log(f"reclaimed {human_size(report.get('SpaceReclaimed', 0))}")
    return report


@handles("image.history")
def history(ctx: JobContext) -> dict:
    """The image's layers, newest first, as ``wharf history`` shows them (the result is the page's)."""
    with engine() as rt:
        entries = rt.images.history(ctx.params["image"])
    ctx.log(f"{len(entries)} history entries")
    return {"history": entries}
