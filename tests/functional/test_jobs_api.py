"""The jobs API: scoped to the requester's teams, creating a job queues it to its host."""

import pytest

from webapp.jobs.choices import JobState
from webapp.jobs.models import Job


@pytest.fixture
def queued(monkeypatch):
    """Record what would be sent to Celery (the broker is not part of these tests)."""
    sent = []
    monkeypatch.setattr("webapp.jobs.services.enqueue", sent.append)
    return sent


def test_it_creates_a_job_and_queues_it_on_commit(
    make_team, make_user, make_host, grant, api_client, queued, django_capture_on_commit_callbacks
):
    team = make_team("blue")
    user = make_user(team=team)
    host = make_host("h1")
    grant(team, host)
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client(user).post(
            "/api/v1/jobs/", {"kind": "host.check", "host": "h1"}, format="json"
        )
    assert r.status_code == 201, r.content
    job = Job.objects.get(pk=r.json()["id"])
    assert (job.team, job.host, job.requester, job.state) == (team, host, user, JobState.QUEUED)
    assert queued == [job]


def test_it_shows_only_the_requesters_teams_jobs(
    make_team, make_user, make_host, api_client, queued
):
    blue, red = make_team("blue"), make_team("red")
    alice, bob = make_user(team=blue), make_user(team=red)
    host = make_host()
    mine = Job.objects.create(kind="host.check", host=host, team=blue, requester=alice)
    theirs = Job.objects.create(kind="host.check", host=host, team=red, requester=bob)
    client = api_client(alice)
    ids = [j["id"] for j in client.get("/api/v1/jobs/").json()["results"]]
    assert ids == [mine.pk]
    assert client.get(f"/api/v1/jobs/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/jobs/{theirs.pk}/output/").status_code == 404


def test_a_fleet_admin_sees_every_team(make_team, make_user, make_host, api_client):
    host = make_host()
    Job.objects.create(kind="host.check", host=host, team=make_team())
    Job.objects.create(kind="host.check", host=host, team=make_team())
    admin = make_user(staff=True)
    assert api_client(admin).get("/api/v1/jobs/").json()["count"] == 2


def test_another_teams_slug_is_a_field_error_like_a_missing_one(
    make_team, make_user, make_host, api_client, queued
):
    mine = make_team("mine")
    make_team("other")
    user = make_user(team=mine)
    make_host("h")
    client = api_client(user)
    answers = {}
    for slug in ("other", "no-such-team"):
        r = client.post(
            "/api/v1/jobs/", {"kind": "host.check", "host": "h", "team": slug}, format="json"
        )
        assert r.status_code == 400
        answers[slug] = r.json()["team"][0].replace(slug, "SLUG")
    assert answers["other"] == answers["no-such-team"]
    assert not Job.objects.exists() and queued == []


def test_a_team_where_the_user_only_watches_is_not_a_choice(
    make_team, make_user, make_host, api_client, queued
):
    team = make_team("watched")
    viewer = make_user(team=team, role="viewer")
    make_host("h")
    r = api_client(viewer).post(
        "/api/v1/jobs/", {"kind": "host.check", "host": "h", "team": "watched"}, format="json"
    )
    assert r.status_code == 400 and "may start jobs" in r.json()["team"][0]


def test_an_unknown_host_is_a_field_error(make_team, make_user, api_client, queued):
    user = make_user(team=make_team())
    r = api_client(user).post(
        "/api/v1/jobs/", {"kind": "host.check", "host": "nowhere"}, format="json"
    )
    assert r.status_code == 400 and "nowhere" in r.json()["host"][0]


def test_a_viewer_cannot_start_jobs(make_team, make_user, make_host, grant, api_client, queued):
    team = make_team()
    viewer = make_user(team=team, role="viewer")
    grant(team, make_host("h"))
    r = api_client(viewer).post("/api/v1/jobs/", {"kind": "host.check", "host": "h"}, format="json")
    assert r.status_code == 403


def test_an_unknown_kind_is_a_clear_400(make_team, make_user, make_host, api_client, queued):
    user = make_user(team=make_team())
    make_host("h")
    r = api_client(user).post("/api/v1/jobs/", {"kind": "rm -rf", "host": "h"}, format="json")
    assert r.status_code == 400
    assert "kind" in r.json()


def test_a_cordoned_host_takes_no_new_jobs(
    make_team, make_user, make_host, grant, api_client, queued
):
    from webapp.fleet.models import Host

    team = make_team()
    user = make_user(team=team)
    grant(team, make_host("h"))
    Host.objects.filter(name="h").update(state="cordoned")
    r = api_client(user).post("/api/v1/jobs/", {"kind": "host.check", "host": "h"}, format="json")
    assert r.status_code == 400 and "cordoned" in r.json()["host"][0]


def test_anonymous_requests_are_refused(db, client):
    assert client.get("/api/v1/jobs/").status_code in (401, 403)


def test_the_openapi_schema_lists_the_jobs_api(make_user, api_client):
    r = api_client(make_user()).get("/api/schema/?format=json")
    assert r.status_code == 200
    assert "/api/v1/jobs/" in r.json()["paths"]


def test_the_polled_hosts_table_needs_a_session_and_lists_hosts(
    make_user, make_team, make_host, grant, client
):
    team = make_team()
    grant(team, make_host("polled-host"))
    assert client.get("/hosts/table/").status_code == 302
    client.force_login(make_user(team=team))
    r = client.get("/hosts/table/")
    assert r.status_code == 200 and b"polled-host" in r.content and b"<table" in r.content
