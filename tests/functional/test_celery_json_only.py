"""The root workers accept JSON only: a pickled message is refused, never run."""

import pickle

import pytest
from kombu.exceptions import ContentDisallowed
from kombu.serialization import loads

from worker.celery import app


def test_the_app_accepts_only_json():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_accept_content == ["json"]


def test_a_pickled_body_is_refused_by_the_apps_decoder():
    body = pickle.dumps(((1,), {}, {}))
    with pytest.raises(ContentDisallowed):
        loads(body, "application/x-python-serialize", "binary", accept=app.conf.accept_content)


def test_jobs_are_acknowledged_late_and_one_at_a_time(settings):
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] > settings.WHARF_JOB_TIME_LIMIT
