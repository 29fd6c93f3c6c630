"""The pages as a new user meets them: signing in again keeps the page, stale forms explain
themselves, viewers are told why they cannot start jobs, the job page says everything and acts."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from webapp.jobs.choices import JobState
from webapp.jobs.models import Job


@pytest.fixture
def no_broker(monkeypatch):
    sent = []
    monkeypatch.setattr("webapp.jobs.services.enqueue", sent.append)
    return sent


@pytest.mark.parametrize("fragment", ["/hosts/table/", "/jobs/table/?page=2"])
def test_a_signed_out_htmx_poll_sends_the_tab_to_sign_in_with_its_page_kept(db, client, fragment):
    r = client.get(
        fragment,
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/?state=failed&page=2"},
    )
    assert r.status_code == 401 and b"<form" not in r.content
    assert r["HX-Redirect"] == "/login/?next=%2F%3Fstate%3Dfailed%26page%3D2"


def test_a_foreign_current_url_is_not_followed_back(db, client):
    r = client.get(
        "/hosts/table/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/"}
    )
    assert r.status_code == 401 and r["HX-Redirect"] == "/login/?next=%2F"


def test_a_signed_out_page_load_still_redirects_to_sign_in(db, client):
    r = client.get("/jobs/5/")
    assert r.status_code == 302 and r["Location"] == "/login/?next=/jobs/5/"


def test_a_stale_form_explains_itself_and_leads_back(make_user, make_host):
    make_host("h1")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_user())
    r = browser.post("/hosts/h1/check/", headers={"Referer": "http://testserver/jobs/7/"})
    assert r.status_code == 403
    page = r.content.decode()
    assert "This form has expired" in page and 'href="/jobs/7/"' in page
    signed_out = Client(enforce_csrf_checks=True)
    r = signed_out.post("/hosts/h1/check/", headers={"Referer": "http://testserver/?page=2"})
    assert r.status_code == 403 and 'href="/login/?next=%2F%3Fpage%3D2"' in r.content.decode()


def test_a_viewer_sees_a_disabled_start_button_and_why(
    make_user, make_team, make_host, grant, client
):
    team = make_team("blue")
    grant(team, make_host("h1"))
    client.force_login(make_user(team=team, role="viewer"))
    page = client.get("/").content.decode()
    assert 'id="viewer-note"' in page and "viewer" in page
    assert 'action="/hosts/h1/check/"' not in page
    assert re.search(r'<button class="start-check" disabled title="[^"]*viewer', page)
    member = Client()
    member.force_login(make_user(team=team))
    page = member.get("/").content.decode()
    assert 'action="/hosts/h1/check/"' in page and "viewer-note" not in page


def _job(team, host, **fields) -> Job:
    return Job.objects.create(kind="host.check", host=host, team=team, **fields)


def test_the_job_page_shows_who_what_when_and_a_way_back(make_user, make_team, make_host, client):
    from datetime import timedelta

    from django.utils import timezone

    team = make_team("blue")
    alice = make_user("alice", team=team)
    now = timezone.now()
    job = _job(
        team,
        make_host("h1"),
        requester=alice,
        state=JobState.SUCCEEDED,
        started=now - timedelta(seconds=75),
        finished=now,
    )
    client.force_login(alice)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="job-requester">alice<' in page and 'id="job-team">blue<' in page
    assert 'id="job-duration">0:01:15<' in page
    assert 'id="back" href="/jobs/"' in page
    assert 'id="job-rerun"' in page and 'id="job-cancel"' not in page  # it has ended


def test_cancel_and_run_again_from_the_job_page(
    make_user, make_team, make_host, grant, client, no_broker, django_capture_on_commit_callbacks
):
    team = make_team("blue")
    alice = make_user("alice", team=team)
    host = make_host("h1")
    grant(team, host)
    job = _job(team, host, requester=alice, params={})
    client.force_login(alice)
    assert 'id="job-cancel"' in client.get(f"/jobs/{job.pk}/").content.decode()
    r = client.post(f"/jobs/{job.pk}/cancel/")
    assert r.status_code == 302 and Job.objects.get(pk=job.pk).state == JobState.CANCELLED
    again = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert "nothing to cancel" in again.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/jobs/{job.pk}/rerun/")
    new = Job.objects.exclude(pk=job.pk).get()
    assert r["Location"] == f"/jobs/{new.pk}/"
    assert (new.kind, new.host, new.team, new.params, new.requester) == (
        job.kind,
        job.host,
        job.team,
        job.params,
        alice,
    )
    assert no_broker == [new]


def test_a_viewer_may_read_a_job_but_not_cancel_or_rerun_it(
    make_user, make_team, make_host, client, no_broker
):
    team = make_team("blue")
    job = _job(team, make_host("h1"))
    client.force_login(make_user(team=team, role="viewer"))
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "job-cancel" not in page and "job-rerun" not in page and "You watch this job" in page
    client.post(f"/jobs/{job.pk}/cancel/")
    client.post(f"/jobs/{job.pk}/rerun/")
    assert list(Job.objects.values_list("state", flat=True)) == [JobState.QUEUED]
    stranger = Client()
    stranger.force_login(make_user(team=make_team("red")))
    assert stranger.get(f"/jobs/{job.pk}/").status_code == 404
    assert stranger.post(f"/jobs/{job.pk}/cancel/").status_code == 404


def test_the_jobs_table_pages_filters_and_polls_its_own_page(
    make_user, make_team, make_host, client
):
    team = make_team("blue")
    host = make_host("h1")
    for _ in range(30):
        _job(team, host)
    failed = _job(team, host, state=JobState.FAILED)
    client.force_login(make_user(team=team))
    first = client.get("/").content.decode()
    assert first.count('class="job"') == 25 and "page 1 of 2" in first
    second = client.get("/jobs/table/?page=2", headers={"HX-Request": "true"}).content.decode()
    assert second.count('class="job"') == 6 and 'hx-get="/jobs/table/?page=2"' in second
    only = client.get("/jobs/table/?state=failed").content.decode()
    assert only.count('class="job"') == 1 and f'data-job="{failed.pk}"' in only
    assert 'hx-get="/jobs/table/?state=failed&amp;page=1"' in only
