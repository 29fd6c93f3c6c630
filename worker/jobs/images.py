"""Image jobs: pull (with per-layer progress), push, build, load, import, tag, remove, prune.

Build, load and import read what the job's request uploaded to the site: the
worker fetches it with its own credential, for this job only, into its
root's tmp directory, and removes it when the job ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@handles("image.push")
def push(ctx: JobContext) -> dict:
    """Push with the registry credentials the claim carried (none: anonymous, or the host's
    own ``wharf login``); they go to the registry only, never into the job's output."""
    target = ctx.params["target"]
    with engine() as rt:
        digest = rt.images.push(
            ctx.params["image"], target, progress=progress_to(ctx), credentials=ctx.credentials
        )
    ctx.log(f"{target}: digest: {digest}")
    return {"image": ctx.params["image"], "reference": target, "digest": digest}


@contextmanager
def upload_of(ctx: JobContext, rt) -> Iterator[Path | None]:  # noqa: ANN001 - a Runtime
    """The job's upload on this host's disk while the job runs (None if it has none)."""
    if not ctx.params.get("upload"):
        yield None
        return
    path = rt.paths.root / "tmp" / f"upload-job-{ctx.job_id}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        size = ctx.site.download(ctx.job_id, path)
        ctx.log(f"received the upload: {human_size(size)}")
        yield path
    finally:
        path.unlink(missing_ok=True)


def _say(ctx: JobContext):  # noqa: ANN202 - a builder's progress callback
    def say(line: str) -> None:
        ctx.check_cancelled()
        ctx.log(line)

    return say


@handles("image.build")
def build(ctx: JobContext) -> dict:
    """Build with the host's builder; each step and its RUN output is a line of the job."""
    from runtime.build.builder import Builder, BuildOptions

    p = ctx.params
    with engine() as rt, upload_of(ctx, rt) as context:
        options = BuildOptions(
            context=str(context) if context else "-",
            dockerfile=p.get("dockerfile_path") or "Dockerfile",
            dockerfile_text=p.get("dockerfile") or None,
            tags=list(p.get("tags") or []),
            build_args=dict(p.get("build_args") or {}),
            target=p.get("target", ""),
            no_cache=bool(p.get("no_cache")),
        )
        image = Builder(rt, options, _say(ctx)).build()
    return {"image": image.id, "tags": options.tags}


@handles("image.load")
def load(ctx: JobContext) -> dict:
    with engine() as rt, upload_of(ctx, rt) as archive:
        images = rt.images.load(archive, progress=progress_to(ctx))
    for image in images:
        ctx.log(f"Loaded image: {', '.join(image.repo_tags) or image.id}")
    ids = [i.id for i in images]
    return {"image": ids[0] if ids else "", "images": ids}


@handles("image.import")
def import_(ctx: JobContext) -> dict:
    with engine() as rt, upload_of(ctx, rt) as archive, open(archive, "rb") as source:
        image = rt.images.import_rootfs(
            source, ctx.params.get("reference") or None, message=ctx.params.get("message", "")
        )
    ctx.log(image.id)
    return {"image": image.id, "reference": ctx.params.get("reference", "")}


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
