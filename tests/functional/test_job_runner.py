"""The runner: claims a job once, stores and publishes each line, records the end."""

from webapp.jobs.choices import JobState
from webapp.jobs.models import Job
from worker import runner


def _job(make_team, make_host, kind="test.echo", **params):
    return Job.objects.create(kind=kind, host=make_host(), team=make_team(), params=params)


def test_it_runs_a_handler_and_stores_its_lines(make_team, make_host, monkeypatch):
    def echo(ctx):
        ctx.log("one\ntwo")
        return {"said": 2}

    monkeypatch.setitem(runner.HANDLERS, "test.echo", echo)
    job = _job(make_team, make_host)
    assert runner.run_job(job.pk) == JobState.SUCCEEDED
    job.refresh_from_db()
    assert [(line.seq, line.text) for line in job.lines.all()] == [(1, "one"), (2, "two")]
    assert job.result == {"said": 2} and job.started and job.finished


def test_a_redelivered_message_does_not_run_a_finished_job_again(make_team, make_host, monkeypatch):
    calls = []
    monkeypatch.setitem(runner.HANDLERS, "test.echo", lambda ctx: calls.append(1))
    job = _job(make_team, make_host)
    runner.run_job(job.pk)
    runner.run_job(job.pk, redelivered=True)
    assert calls == [1]


def test_a_crashing_handler_fails_the_job_with_its_traceback(make_team, make_host, monkeypatch):
    def boom(ctx):
        raise ValueError("disk on fire")

    monkeypatch.setitem(runner.HANDLERS, "test.echo", boom)
    job = _job(make_team, make_host)
    assert runner.run_job(job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert job.error == "disk on fire"
    assert any("Traceback" in line.text for line in job.lines.all())


def test_a_cancelled_job_is_not_run(make_team, make_host, monkeypatch):
    calls = []
    monkeypatch.setitem(runner.HANDLERS, "test.echo", lambda ctx: calls.append(1))
    job = _job(make_team, make_host)
    Job.objects.filter(pk=job.pk).update(state=JobState.CANCELLED)
    assert runner.run_job(job.pk) == JobState.CANCELLED and calls == []
