"""The Celery app of a host's worker: its own queue, on its own broker user, JSON only.

The worker holds no database URL and no site secret: its settings come from
the host config written at enrolment (``worker.hostconfig``). Messages are
JSON (a pickled message could run code as root), every key it touches carries
its host's prefix (the broker lets its user touch nothing else), remote
control and task events are off (nobody may steer a root worker through the
broker), jobs are acknowledged only when done and requeued if the worker dies
mid-job; each message carries its soft and hard time limits from the site.
"""

from __future__ import annotations

import os
from functools import lru_cache

from celery import Celery

from worker.hostconfig import HostConfig
from worker.siteclient import SiteClient

app = Celery("wharf")


@lru_cache(maxsize=1)
def host_config() -> HostConfig:
    return HostConfig.load()


_clients: dict[int, SiteClient] = {}


def site_client() -> SiteClient:
    """This process's client of the site's host API.

    One per process: the pool's processes are forked from the main one, whose
    heartbeat keeps a connection open. A child that used the inherited client
    would share that socket with the parent, and each would read the other's
    answers (a claim answered with a heartbeat's ``{"cancel": []}``).
    """
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        _clients.clear()  # the parent's, inherited by fork: never to be used here
        cfg = host_config()
        client = _clients[pid] = SiteClient(cfg.site_url, cfg.credential)
    return client


def configure(cfg: HostConfig) -> None:
    app.conf.update(
        broker_url=cfg.broker_url,
        broker_transport_options={"global_keyprefix": cfg.key_prefix},
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        event_serializer="json",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        broker_connection_retry_on_startup=True,
        task_default_queue=cfg.queue,
        worker_hijack_root_logger=False,
    )


app.autodiscover_tasks(["worker"], related_name="tasks", force=False)
