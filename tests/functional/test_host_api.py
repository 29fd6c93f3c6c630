"""The host API: enrolment, a host's reach limited to its own jobs, claims, lines, ends, beats.

The broker is outside these tests (``broker.grant_host`` and ``send_job`` are
recorded); the end-to-end tests run the same calls from a real worker.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from webapp.fleet import credentials
from webapp.fleet.models import EnrollmentToken, Host, HostEvent
from webapp.jobs.choices import JobState
from webapp.jobs.models import Job


@pytest.fixture(autouse=True)
def no_broker(monkeypatch, settings, tmp_path):
    settings.WHARF_SIGNING_KEY_FILE = str(tmp_path / "signing.key")
    from webapp.jobs import signing

    signing._private_key.cache_clear()
    sent = []
    monkeypatch.setattr("webapp.fleet.broker.grant_host", lambda name: "broker-pw")
    monkeypatch.setattr(
        "webapp.fleet.broker.send_job", lambda name, env, mid, limit: sent.append((name, mid))
    )
    return sent


def enrol(name: str) -> APIClient:
    token = credentials.issue_enrollment_token(name)
    r = APIClient().post(
        "/api/host/v1/enroll/", {"token": token, "name": name, "facts": {}}, format="json"
    )
    assert r.status_code == 201, r.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Host {r.json()['credential']}")
    return client


def job_on(host_name: str, make_team, state=JobState.QUEUED, kind="host.check", **fields) -> Job:
    host = Host.objects.get(name=host_name)
    return Job.objects.create(
        kind=kind, host=host, team=make_team(), state=state, message_id="m1", **fields
    )


def test_enrolment_answers_a_credential_stored_only_hashed(db):
    token = credentials.issue_enrollment_token()
    r = APIClient().post(
        "/api/host/v1/enroll/", {"token": token, "name": "h1", "facts": {}}, format="json"
    )
    assert r.status_code == 201
    body = r.json()
    assert body["host_name"] == "h1" and body["queue"] == "host.h1"
    assert body["key_prefix"] == "wharf:host.h1:" and "BEGIN PUBLIC KEY" in body["public_key"]
    assert "host.h1:broker-pw@" in body["broker_url"]
    secret = body["credential"].split(".", 1)[1]
    host = Host.objects.get(name="h1")
    assert secret not in host.credential_hash and len(host.credential_hash) == 64
    assert EnrollmentToken.objects.get().used is not None


def test_an_enrolment_token_works_once_and_not_after_it_expires(db):
    token = credentials.issue_enrollment_token()
    client = APIClient()
    body = {"token": token, "name": "h1", "facts": {}}
    assert client.post("/api/host/v1/enroll/", body, format="json").status_code == 201
    again = client.post("/api/host/v1/enroll/", body | {"name": "h2"}, format="json")
    assert again.status_code == 400 and "token" in again.json()
    old = credentials.issue_enrollment_token()
    EnrollmentToken.objects.filter(used__isnull=True).update(expires=timezone.now())
    late = client.post("/api/host/v1/enroll/", body | {"token": old, "name": "h3"}, format="json")
    assert late.status_code == 400 and not Host.objects.filter(name="h3").exists()


def test_a_bad_host_name_is_a_field_error_and_spends_no_token(db):
    token = credentials.issue_enrollment_token()
    r = APIClient().post(
        "/api/host/v1/enroll/", {"token": token, "name": "Í/x", "facts": {}}, format="json"
    )
    assert r.status_code == 400, r.content
    assert r.json()["kind"] == "invalid" and "not valid" in r.json()["name"][0]
    assert EnrollmentToken.objects.get().used is None and not Host.objects.exists()


def test_an_open_token_cannot_take_over_an_enrolled_host(db):
    enrol("h1")
    token = credentials.issue_enrollment_token()  # for any host
    r = APIClient().post(
        "/api/host/v1/enroll/", {"token": token, "name": "h1", "facts": {}}, format="json"
    )
    assert r.status_code == 409
    renamed = credentials.issue_enrollment_token("h1")  # an admin's token naming it
    r = APIClient().post(
        "/api/host/v1/enroll/", {"token": renamed, "name": "h1", "facts": {}}, format="json"
    )
    assert r.status_code == 201


def test_a_host_reaches_only_its_own_jobs(db, make_team):
    one, two = enrol("h1"), enrol("h2")
    job = job_on("h2", make_team)
    for path, body in [
        (f"/api/host/v1/jobs/{job.pk}/claim/", {"message": "m1"}),
        (f"/api/host/v1/jobs/{job.pk}/lines/", {"lines": []}),
        (f"/api/host/v1/jobs/{job.pk}/finish/", {"state": "succeeded"}),
    ]:
        assert one.post(path, body, format="json").status_code == 404
    job.refresh_from_db()
    assert job.state == JobState.QUEUED
    claim = two.post(f"/api/host/v1/jobs/{job.pk}/claim/", {"message": "m1"}, format="json")
    assert claim.status_code == 200


def test_no_credential_a_forged_one_or_a_revoked_one_gets_nothing(db, make_team, monkeypatch):
    monkeypatch.setattr("webapp.fleet.broker.revoke_host", lambda name: None)
    client = enrol("h1")
    job = job_on("h1", make_team)
    path = f"/api/host/v1/jobs/{job.pk}/claim/"
    assert APIClient().post(path, {"message": "m1"}, format="json").status_code == 401
    forged = APIClient()
    host = Host.objects.get(name="h1")
    forged.credentials(HTTP_AUTHORIZATION=f"Host {host.pk}.{'A' * 43}")
    assert forged.post(path, {"message": "m1"}, format="json").status_code == 401
    credentials.revoke(host)
    assert client.post(path, {"message": "m1"}, format="json").status_code == 401
    assert HostEvent.objects.filter(host=host, kind="revoked").exists()


def test_a_claim_names_the_message_last_sent_and_happens_once(db, make_team):
    client = enrol("h1")
    job = job_on("h1", make_team)
    path = f"/api/host/v1/jobs/{job.pk}/claim/"
    assert client.post(path, {"message": "old"}, format="json").status_code == 409
    r = client.post(path, {"message": "m1"}, format="json")
    assert r.status_code == 200 and r.json()["kind"] == "host.check"
    assert r.json()["attempt"] == 1, "a first run: nothing of an earlier one to find"
    assert client.post(path, {"message": "m1"}, format="json").status_code == 409
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.attempts == 1


def test_a_redelivery_after_a_lost_worker_retries_only_a_retry_safe_kind(
    db, make_team, monkeypatch
):
    from webapp.jobs import kinds

    client = enrol("h1")
    safe = job_on("h1", make_team, state=JobState.RUNNING, started=timezone.now())
    r = client.post(
        f"/api/host/v1/jobs/{safe.pk}/claim/", {"message": "m1", "redelivered": True}, format="json"
    )
    assert r.status_code == 200
    safe.refresh_from_db()
    assert safe.attempts == 1 and safe.state == JobState.RUNNING
    monkeypatch.setitem(
        kinds.KINDS, "test.unsafe", kinds.Kind("test.unsafe", kinds.NoParams, retry_safe=False)
    )
    unsafe = job_on(
        "h1", make_team, state=JobState.RUNNING, kind="test.unsafe", started=timezone.now()
    )
    r = client.post(
        f"/api/host/v1/jobs/{unsafe.pk}/claim/",
        {"message": "m1", "redelivered": True},
        format="json",
    )
    assert r.status_code == 409
    unsafe.refresh_from_db()
    assert (unsafe.state, unsafe.error_kind) == (JobState.FAILED, "worker_lost")


def test_lines_are_stored_once_in_order_and_tell_of_a_cancel(db, make_team):
    client = enrol("h1")
    job = job_on("h1", make_team, state=JobState.RUNNING, started=timezone.now())
    path = f"/api/host/v1/jobs/{job.pk}/lines/"
    batch = [{"seq": i, "stream": "stdout", "text": f"line {i}"} for i in range(1, 1001)]
    assert client.post(path, {"lines": batch}, format="json").json() == {"cancel": False}
    client.post(path, {"lines": batch[500:]}, format="json")  # a retried batch
    assert list(job.lines.values_list("seq", flat=True)) == list(range(1, 1001))
    job.refresh_from_db()
    assert job.last_seq == 1000
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    assert client.post(path, {"lines": []}, format="json").json() == {"cancel": True}


def test_a_host_ends_its_job_once_and_only_in_a_host_state(db, make_team):
    client = enrol("h1")
    job = job_on("h1", make_team, state=JobState.RUNNING, started=timezone.now())
    path = f"/api/host/v1/jobs/{job.pk}/finish/"
    assert client.post(path, {"state": "expired"}, format="json").status_code == 400
    body = {"state": "failed", "error": "no such image", "error_kind": "not_found"}
    assert client.post(path, body, format="json").status_code == 200
    assert client.post(path, body, format="json").status_code == 200  # a retried report
    assert client.post(path, {"state": "succeeded"}, format="json").status_code == 409
    job.refresh_from_db()
    assert (job.state, job.error_kind) == (JobState.FAILED, "not_found")


def test_a_heartbeat_ends_the_jobs_its_worker_lost(db, make_team, settings):
    settings.WHARF_HEARTBEAT_SECONDS = 10
    client = enrol("h1")
    long_ago = timezone.now() - timedelta(seconds=60)
    lost = job_on(
        "h1", make_team, kind="container.remove", state=JobState.RUNNING, started=long_ago
    )
    # a host check is safe to run twice: it is queued again under a new message
    retried = job_on("h1", make_team, state=JobState.RUNNING, started=long_ago, attempts=1)
    alive = job_on("h1", make_team, state=JobState.RUNNING, started=long_ago)
    just_claimed = job_on("h1", make_team, state=JobState.RUNNING, started=timezone.now())
    overdue = job_on(
        "h1",
        make_team,
        state=JobState.RUNNING,
        started=timezone.now() - timedelta(hours=2),
        time_limit=60,
    )
    Job.objects.filter(pk=alive.pk).update(cancel_requested=True)
    r = client.post("/api/host/v1/heartbeat/", {"running": [alive.pk]}, format="json")
    assert r.json() == {"cancel": [alive.pk]}
    # one beat without a job may come just before its worker noted it: the second one counts
    assert Job.objects.filter(state=JobState.RUNNING).count() == 5
    earlier = timezone.now() - timedelta(seconds=30)
    Job.objects.exclude(unseen_since=None).update(unseen_since=earlier)
    client.post("/api/host/v1/heartbeat/", {"running": [alive.pk]}, format="json")
    states = {j.pk: (j.state, j.error_kind) for j in Job.objects.all()}
    assert states[lost.pk] == (JobState.FAILED, "worker_lost")
    assert states[overdue.pk] == (JobState.FAILED, "time_limit")
    assert states[alive.pk][0] == states[just_claimed.pk][0] == JobState.RUNNING
    retried.refresh_from_db()
    assert (retried.state, retried.attempts) == (JobState.QUEUED, 1)
    assert retried.message_id != "m1", "the lost run's message can no longer claim it"


def test_a_refused_message_is_recorded_for_admins(db):
    client = enrol("h1")
    r = client.post(
        "/api/host/v1/rejected/", {"reason": "bad signature", "message": "{...}"}, format="json"
    )
    assert r.status_code == 201
    assert HostEvent.objects.get(kind="message_refused").detail.startswith("bad signature")


def test_the_sweeper_expires_sends_and_gives_up_on_silent_hosts(db, make_team, no_broker):
    from webapp.jobs.services import sweep

    enrol("h1")
    stale = job_on("h1", make_team, deadline=timezone.now() - timedelta(seconds=1))
    unsent = job_on("h1", make_team, deadline=timezone.now() + timedelta(hours=1))
    Job.objects.filter(pk=unsent.pk).update(created=timezone.now() - timedelta(seconds=10))
    running = job_on("h1", make_team, state=JobState.RUNNING, started=timezone.now())
    Host.objects.filter(name="h1").update(last_heartbeat=timezone.now() - timedelta(hours=1))
    done = sweep()
    assert done["expired"] == [stale.pk] and done["sent"] == [unsent.pk]
    assert done["unreachable"] == [running.pk]
    assert no_broker == [("h1", "m1")]
    assert Job.objects.get(pk=running.pk).error_kind == "host_unreachable"
    assert Job.objects.get(pk=unsent.pk).enqueued is not None
    assert sweep()["sent"] == []  # sent once


def test_a_sweep_after_the_site_was_away_does_not_judge_silent_hosts(db, make_team):
    from webapp.jobs.services import sweep

    enrol("h1")
    running = job_on("h1", make_team, state=JobState.RUNNING, started=timezone.now())
    Host.objects.filter(name="h1").update(last_heartbeat=timezone.now() - timedelta(minutes=1))
    assert sweep(judge_hosts=False)["unreachable"] == []
    assert Host.objects.get(name="h1").state == "online"
    assert Job.objects.get(pk=running.pk).state == JobState.RUNNING


def test_a_queued_job_of_an_unreachable_host_can_be_cancelled(db, make_team, make_user, api_client):
    team = make_team()
    user = make_user(team=team)
    enrol("h1")
    Host.objects.filter(name="h1").update(state="unreachable")
    job = Job.objects.create(
        kind="host.check", host=Host.objects.get(name="h1"), team=team, message_id="m1"
    )
    r = api_client(user).post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    again = api_client(user).post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert again.status_code == 409 and "nothing to cancel" in again.json()["detail"]
    assert Job.objects.get(pk=job.pk).state == JobState.CANCELLED


def test_the_signed_envelope_verifies_on_the_host(db, settings):
    from webapp.jobs.signing import public_key_pem, sign
    from worker.verify import verify

    envelope = sign(5, "h1", "abc")
    assert verify(envelope, public_key_pem(), "h1")["message"] == "abc"
