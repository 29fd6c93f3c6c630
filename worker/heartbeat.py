"""The host's heartbeat: report facts and the jobs running here, until the worker stops.

The site compares the running jobs with its records: a job it thinks runs
here but that is not in the list was lost with its worker, and ends with that
reason instead of staying "running" for hours.
"""

from __future__ import annotations

import logging
import threading

from worker.siteclient import SiteClient

log = logging.getLogger(__name__)


def running_jobs() -> list[int]:
    """The jobs this worker's pool runs now (Celery keeps the requests in the main process)."""
    from celery.worker import state

    out = []
    for request in list(state.active_requests):
        envelope = (request.args or [None])[0]
        if isinstance(envelope, dict) and isinstance(envelope.get("job"), int):
            out.append(envelope["job"])
    return out


def beat_once(site: SiteClient, with_facts: bool = True) -> dict:
    from runtime.hostinfo import gather

    return site.heartbeat(gather() if with_facts else None, running_jobs())


class Heartbeat(threading.Thread):
    """Beat every ``interval`` seconds in the worker's main process."""

    def __init__(self, site: SiteClient, interval: float) -> None:
        super().__init__(name="wharf-heartbeat", daemon=True)
        self.site = site
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                beat_once(self.site)
            except Exception:  # noqa: BLE001 - a missed beat must not kill the worker
                log.exception("heartbeat failed")

    def stop(self) -> None:
        self.stopped.set()
