"""Celery's view of the worker: one thin task that hands a job message to the runner."""

from __future__ import annotations

from worker.celery import app, host_config, site_client


@app.task(name="wharf.run_job", bind=True, acks_late=True, reject_on_worker_lost=True)
def run_job(self, envelope: object) -> str:  # noqa: ANN001 - Celery's bound task
    import worker.jobs  # noqa: F401 - registers the handlers
    from worker.runner import run_job as run

    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return run(host_config(), site_client(), envelope, self.request.id, redelivered=redelivered)
