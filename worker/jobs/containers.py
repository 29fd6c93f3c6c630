"""Container jobs: create/run, start, stop, restart, kill, pause, unpause, rename, remove,
exec (output streamed), commit, prune.

A create carries the job's label (``wharf.job=<id>``): a create that runs again
after its worker was lost finds the container its first run made and carries
on from there, so one request makes one container.
"""

from __future__ import annotations

import os
import threading

from runtime.containers.model import ContainerSpec
from worker.jobs.engine import JOB_LABEL, engine, made_by
from worker.jobs.images import progress_to
from worker.runner import JobContext, JobFailed, handles

SECOND_NS = 1_000_000_000


def _health(check: dict | None) -> dict | None:
    if not check:
        return None
    return {
        "Test": ["CMD", *check["command"]],
        "Interval": int(check["interval"] * SECOND_NS),
        "Timeout": int(check["timeout"] * SECOND_NS),
        "StartPeriod": int(check["start_period"] * SECOND_NS),
        "Retries": check["retries"],
    }


def spec_of(params: dict, job_key: str) -> ContainerSpec:
    """The runtime's create options from a job's checked parameters."""
    labels = {**(params.get("labels") or {}), JOB_LABEL: job_key.partition("=")[2]}
    return ContainerSpec(
        image=params["image"],
        name=params.get("name", ""),
        cmd=params.get("command") or None,
        entrypoint=params.get("entrypoint"),
        env=[f"{k}={v}" for k, v in (params.get("env") or {}).items()],
        ports=params.get("ports") or [],
        volumes=params.get("volumes") or [],
        network=params.get("network") or "bridge",
        restart=params.get("restart") or "no",
        labels=labels,
        user=params.get("user", ""),
        workdir=params.get("workdir", ""),
        memory=params.get("memory") or 0,
        cpus=params.get("cpus") or 0.0,
        healthcheck=_health(params.get("health")),
    )


@handles("container.create")
def create(ctx: JobContext) -> dict:
    with engine() as rt:
        # a first run has nothing to find (reading every container's labels costs ~0.3 ms each)
        earlier = made_by(rt, ctx.idempotency_key) if ctx.attempt != 1 else []
        if earlier:
            container = earlier[0]
            ctx.log(f"{container.id} was made by this job's first run")
        else:
            if not rt.images.exists(ctx.params["image"]):
                ctx.log(f"Unable to find image '{ctx.params['image']}' locally")
                rt.images.pull(ctx.params["image"], progress=progress_to(ctx))
            container = rt.containers.create(spec_of(ctx.params, ctx.idempotency_key))
            ctx.log(container.id)
        ctx.check_cancelled()
        if ctx.params.get("start", True) and not rt.containers.get(container.id).running:
            rt.containers.start(container.id)
            ctx.log(f"started {container.name}")
        container = rt.containers.get(container.id)
    return {"container": container.id, "name": container.name, "state": container.status}


def _simple(kind: str, act) -> None:
    @handles(kind)
    def handler(ctx: JobContext) -> dict:
        with engine() as rt:
            act(rt, ctx.params)
            c = rt.containers.get(ctx.params["container"])
        ctx.log(f"{c.name}: {c.status}")
        return {"container": c.id, "name": c.name, "state": c.status}

    handler.__name__ = kind.replace(".", "_")


def _start(rt, p: dict) -> None:
    if not rt.containers.get(p["container"]).running:  # started already: done (a retry)
        rt.containers.start(p["container"])


_simple("container.start", _start)
_simple("container.stop", lambda rt, p: rt.containers.stop(p["container"], p.get("timeout")))
_simple("container.restart", lambda rt, p: rt.containers.restart(p["container"], p.get("timeout")))
_simple("container.kill", lambda rt, p: rt.containers.kill(p["container"], p.get("signal", "KILL")))
_simple("container.pause", lambda rt, p: rt.containers.pause(p["container"]))
_simple("container.unpause", lambda rt, p: rt.containers.unpause(p["container"]))


@handles("container.rename")
def rename(ctx: JobContext) -> dict:
    with engine() as rt:
        rt.containers.rename(ctx.params["container"], ctx.params["name"])
        c = rt.containers.get(ctx.params["name"])
    ctx.log(f"renamed to {c.name}")
    return {"container": c.id, "name": c.name}


@handles("container.remove")
def remove(ctx: JobContext) -> dict:
    with engine() as rt:
        c = rt.containers.get(ctx.params["container"])
        rt.containers.remove(
            c.id, force=ctx.params.get("force", False), volumes=ctx.params.get("volumes", False)
        )
    ctx.log(f"removed {c.name}")
    return {"removed": c.id, "name": c.name}


@handles("container.prune")
def prune(ctx: JobContext) -> dict:
    with engine() as rt:
        report = rt.containers.prune()
    for cid in report["ContainersDeleted"]:
        ctx.log(f"deleted {cid}")
    return report


def _pump(fd: int, ctx: JobContext, stream: str) -> None:
    """Send what the process writes to FD as job output, line by line."""
    with os.fdopen(fd, "rb") as pipe:
        for raw in pipe:
            ctx.log(raw.decode(errors="replace").rstrip("\n"), stream)


@handles("container.exec")
def exec_(ctx: JobContext) -> dict:
    """Run a command in a running container; its output streams as the job's output."""
    p = ctx.params
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pumps = [
        threading.Thread(target=_pump, args=(out_r, ctx, "stdout"), daemon=True),
        threading.Thread(target=_pump, args=(err_r, ctx, "stderr"), daemon=True),
    ]
    for t in pumps:
        t.start()
    try:
        with engine() as rt:
            code = rt.containers.exec(
                p["container"],
                p["command"],
                user=p.get("user", ""),
                workdir=p.get("workdir", ""),
                env=[f"{k}={v}" for k, v in (p.get("env") or {}).items()],
                stdin=open(os.devnull, "rb"),  # noqa: SIM115 - closed by the child's end
                stdout=out_w,
                stderr=err_w,
            )
    finally:
        os.close(out_w)
        os.close(err_w)
        for t in pumps:
            t.join()
    ctx.log(f"exit code {code}")
    if code != 0:
        raise JobFailed(f"the command exited with {code}", {"exit_code": code}, kind="exit_code")
    return {"exit_code": code}


@handles("container.commit")
def commit(ctx: JobContext) -> dict:
    with engine() as rt:
        image = rt.containers.commit(ctx.params["container"], ctx.params.get("reference", ""))
    ctx.log(image.id)
    return {"image": image.id, "reference": ctx.params.get("reference", "")}
