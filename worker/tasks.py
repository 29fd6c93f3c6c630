"""Celery's view of the worker: thin tasks that call the runner and the fleet bookkeeping."""

from __future__ import annotations

from worker.celery import app


@app.task(name="wharf.run_job", bind=True, acks_late=True, reject_on_worker_lost=True)
def run_job(self, job_id: int) -> str:  # noqa: ANN001 - Celery's bound task
    import worker.jobs  # noqa: F401 - registers the handlers
    from worker.runner import run_job as run

    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return run(int(job_id), redelivered=redelivered)


@app.task(name="wharf.mark_unreachable")
def mark_unreachable() -> list[str]:
    from webapp.fleet.models import Host

    return Host.mark_unreachable()
