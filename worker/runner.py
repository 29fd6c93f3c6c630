"""The one task that runs every job: claim the row, call the kind's handler, record the end.

Handlers are plain functions registered with ``@handles(kind)``; they get a
``JobContext`` to log lines and return a JSON-ready result. This module owns
state changes, output publishing and traceback capture, so a handler is a few
lines that call ``runtime``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from webapp.jobs.choices import JobState
from webapp.jobs.models import Job
from webapp.jobs.publish import publish

log = logging.getLogger(__name__)
Handler = Callable[["JobContext"], dict | None]
HANDLERS: dict[str, Handler] = {}


class JobFailed(Exception):
    """A handler's way to fail a job with a message and a partial result."""

    def __init__(self, message: str, result: dict | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler of one job kind."""

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return register


class JobContext:
    """What a handler sees: its job's parameters and a way to report output."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.params: dict[str, Any] = job.params

    def log(self, text: str, stream: str = "stdout") -> None:
        """Store one line, then publish it to everyone following the job."""
        for piece in str(text).splitlines() or [""]:
            line = self.job.log(piece, stream)
            publish(self.job.group, line.as_message())


def run_job(job_id: int, redelivered: bool = False) -> str:
    """Run one job to its end; return its final state. Safe to call twice."""
    job = Job.objects.select_related("host").filter(pk=job_id).first()
    if job is None:
        log.warning("job %s does not exist; dropping the message", job_id)
        return "missing"
    if not job.start():
        if not (redelivered and job.state == JobState.RUNNING):
            return job.state  # already done, cancelled, or running elsewhere
        log.warning("job %s redelivered after its worker was lost; running it again", job_id)
    publish(job.group, {"type": "state", "state": JobState.RUNNING})
    ctx = JobContext(job)
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise JobFailed(f"this worker has no handler for job kind {job.kind!r}")
        result = handler(ctx) or {}
    except JobFailed as exc:
        _end(job, ctx, JobState.FAILED, exc.result, str(exc))
    except Exception as exc:  # noqa: BLE001 - a job's failure is data, not a worker crash
        from runtime.errors import WharfError

        if not isinstance(exc, WharfError):
            for line in traceback.format_exc().splitlines():
                ctx.log(line, "stderr")
        _end(job, ctx, JobState.FAILED, {}, str(exc) or type(exc).__name__)
    else:
        _end(job, ctx, JobState.SUCCEEDED, result, "")
    return job.state


def _end(job: Job, ctx: JobContext, state: str, result: dict, error: str) -> None:
    if error:
        ctx.log(error, "stderr")
    job.finish(state, result, error)
    publish(job.group, {"type": "state", "state": job.state, "error": job.error})
