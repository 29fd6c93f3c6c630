"""The runner on the host side, talking to a real site over HTTP (pytest-django's live server).

It checks the message, claims the job once, sends numbered lines in batches,
records the end; it holds no database of its own.
"""

from __future__ import annotations

import pytest

from webapp.jobs.choices import JobState
from webapp.jobs.models import Job
from worker import runner
from worker.hostconfig import HostConfig
from worker.siteclient import SiteClient


@pytest.fixture
def host(live_server, settings, tmp_path, monkeypatch, transactional_db):
    """An enrolled host: its config and a client of the live site."""
    from webapp.fleet import credentials
    from webapp.fleet.hostapi.views import enrolment
    from webapp.jobs import signing

    settings.WHARF_SIGNING_KEY_FILE = str(tmp_path / "signing.key")
    signing._private_key.cache_clear()
    monkeypatch.setattr("webapp.fleet.broker.grant_host", lambda name: "pw")
    answer = enrolment(credentials.issue_enrollment_token("h1"), "h1", {})
    cfg = HostConfig.from_dict({"site_url": live_server.url, **answer})
    site = SiteClient(cfg.site_url, cfg.credential, retry_for=5)
    yield cfg, site
    site.close()


def _job(make_team, kind="test.echo", **params) -> Job:
    from webapp.fleet.models import Host

    return Job.objects.create(
        kind=kind,
        host=Host.objects.get(name="h1"),
        team=make_team(),
        params=params,
        message_id="m-1",
    )


def _run(host, job: Job, message: str = "m-1", **kw) -> str:
    from webapp.jobs.signing import sign

    cfg, site = host
    return runner.run_job(cfg, site, sign(job.pk, "h1", message), message, **kw)


@pytest.fixture
def kinds(monkeypatch):
    from webapp.jobs import kinds

    class Anything(kinds.NoParams):
        def to_internal_value(self, data):
            return data

    monkeypatch.setitem(kinds.KINDS, "test.echo", kinds.Kind("test.echo", Anything))


def test_it_runs_a_handler_and_stores_its_lines(host, make_team, monkeypatch, kinds):
    def echo(ctx):
        ctx.log("one\ntwo")
        for i in range(1200):  # more than one batch
            ctx.log(f"n{i}")
        return {"said": ctx.params["say"]}

    monkeypatch.setitem(runner.HANDLERS, "test.echo", echo)
    job = _job(make_team, say="hi")
    assert _run(host, job) == JobState.SUCCEEDED
    job.refresh_from_db()
    texts = list(job.lines.order_by("seq").values_list("text", flat=True))
    assert texts[:3] == ["one", "two", "n0"] and texts[-1] == "n1199" and len(texts) == 1202
    assert job.result == {"said": "hi"} and job.started and job.finished and job.last_seq == 1202


def test_a_redelivered_message_does_not_run_a_finished_job_again(host, make_team, monkeypatch):
    calls = []
    monkeypatch.setitem(runner.HANDLERS, "test.echo", lambda ctx: calls.append(1))
    job = _job(make_team)
    _run(host, job)
    assert _run(host, job, redelivered=True) == "not claimed"
    assert calls == [1]


def test_a_crashing_handler_fails_the_job_with_its_traceback(host, make_team, monkeypatch):
    def boom(ctx):
        raise ValueError("disk on fire")

    monkeypatch.setitem(runner.HANDLERS, "test.echo", boom)
    job = _job(make_team)
    assert _run(host, job) == JobState.FAILED
    job.refresh_from_db()
    assert job.error == "disk on fire" and job.error_kind == "error"
    assert any("Traceback" in line.text for line in job.lines.all())


def test_a_runtime_error_keeps_its_kind(host, make_team, monkeypatch):
    from runtime.errors import ImageNotFound

    def missing(ctx):
        raise ImageNotFound("No such image: nope:latest")

    monkeypatch.setitem(runner.HANDLERS, "test.echo", missing)
    job = _job(make_team)
    assert _run(host, job) == JobState.FAILED
    job.refresh_from_db()
    assert (job.error, job.error_kind) == ("No such image: nope:latest", "not_found")


def test_a_cancelled_job_is_not_run(host, make_team, monkeypatch):
    calls = []
    monkeypatch.setitem(runner.HANDLERS, "test.echo", lambda ctx: calls.append(1))
    job = _job(make_team)
    Job.objects.filter(pk=job.pk).update(state=JobState.CANCELLED, cancel_requested=True)
    assert _run(host, job) == "not claimed" and calls == []


def test_a_running_job_stops_at_its_next_check_once_cancelled(host, make_team, monkeypatch):
    import time

    def patient(ctx):
        for i in range(200):
            ctx.log(f"step {i}")
            if i == 3:
                Job.objects.filter(pk=ctx.job_id).update(cancel_requested=True)
            ctx.check_cancelled()
            time.sleep(0.05)
        return {}

    monkeypatch.setitem(runner.HANDLERS, "test.echo", patient)
    job = _job(make_team)
    assert _run(host, job) == JobState.CANCELLED
    job.refresh_from_db()
    assert job.error_kind == "cancelled" and job.last_seq < 200


def test_a_message_the_site_did_not_sign_is_refused_and_recorded(host, make_team, monkeypatch):
    from webapp.fleet.models import HostEvent

    calls = []
    monkeypatch.setitem(runner.HANDLERS, "test.echo", lambda ctx: calls.append(1))
    job = _job(make_team)
    cfg, site = host
    forged = {"v": 1, "job": job.pk, "host": "h1", "message": "m-1", "sig": "AAAA"}
    assert runner.run_job(cfg, site, forged, "m-1") == "rejected"
    assert calls == [] and Job.objects.get(pk=job.pk).state == JobState.QUEUED
    assert HostEvent.objects.filter(kind="message_refused").count() == 1
