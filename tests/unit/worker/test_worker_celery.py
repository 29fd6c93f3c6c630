"""The root workers accept JSON only, on their own keys, and obey no remote control."""

import pickle

import pytest
from kombu.exceptions import ContentDisallowed
from kombu.serialization import loads

from worker.celery import app, configure
from worker.hostconfig import HostConfig

CONFIG = HostConfig(
    site_url="http://127.0.0.1:1",
    host_name="h1",
    credential="1.x",
    broker_url="redis://host.h1:pw@127.0.0.1:1/0",
    key_prefix="wharf:host.h1:",
    queue="host.h1",
    public_key="",
)


@pytest.fixture(autouse=True)
def configured():
    configure(CONFIG)


def test_the_app_accepts_only_json():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"


def test_a_pickled_body_is_refused_by_the_apps_decoder():
    body = pickle.dumps(((1,), {}, {}))
    with pytest.raises(ContentDisallowed):
        loads(body, "application/x-python-serialize", "binary", accept=app.conf.accept_content)


def test_jobs_are_acknowledged_late_and_one_at_a_time():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_nobody_steers_the_worker_through_the_broker():
    assert app.conf.worker_enable_remote_control is False
    assert app.conf.worker_send_task_events is False
    assert app.conf.broker_transport_options["global_keyprefix"] == "wharf:host.h1:"
    assert app.conf.task_default_queue == "host.h1"


def test_a_forked_pool_process_never_uses_its_parents_site_client(monkeypatch):
    """The main process's heartbeat keeps a connection open; a pool child sharing it would
    read the heartbeat's answers as its own (a claim answered with {"cancel": []})."""
    import os

    from worker import celery as worker_celery

    monkeypatch.setattr(worker_celery, "host_config", lambda: CONFIG)
    parent = worker_celery.site_client()
    assert worker_celery.site_client() is parent, "one client per process"
    pid = os.fork()
    if pid == 0:  # the child: a client of its own
        os._exit(0 if worker_celery.site_client() is not parent else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
