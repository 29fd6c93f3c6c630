"""The one Celery app of Wharf, shared by the site (to send) and the host workers (to run).

Workers run as root on shared brokers, so messages are JSON only: a pickled
message could run code as root on every host. Jobs are acknowledged only when
done (``acks_late``) and requeued if the worker dies mid-job, and the broker's
visibility timeout is longer than the longest job, so a slow job is never
handed to a second worker while the first still runs it.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

FLEET_QUEUE = "wharf.fleet"

app = Celery("wharf")


def _configure() -> None:
    from django.conf import settings

    app.conf.update(
        broker_url=settings.REDIS_URL,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        event_serializer="json",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.WHARF_JOB_TIME_LIMIT,
        broker_transport_options={"visibility_timeout": settings.WHARF_JOB_TIME_LIMIT + 3600},
        broker_connection_retry_on_startup=True,
        task_default_queue=FLEET_QUEUE,
        task_queues=[Queue(FLEET_QUEUE)],
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        beat_schedule={
            "mark-unreachable-hosts": {
                "task": "wharf.mark_unreachable",
                "schedule": float(settings.WHARF_UNREACHABLE_CHECK_SECONDS),
                "options": {
                    "queue": FLEET_QUEUE,
                    "expires": settings.WHARF_UNREACHABLE_CHECK_SECONDS,
                },
            },
        },
    )


_configure()
app.autodiscover_tasks(["worker"], related_name="tasks", force=False)
