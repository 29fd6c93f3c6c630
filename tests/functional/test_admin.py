"""The admin: records read-only, actions logged as host events, titles and facts readable,
tokens and digests never shown in full."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from webapp.accounts.tokens import ApiToken
from webapp.fleet.models import EnrollmentToken, Host, HostEvent
from webapp.jobs.models import Job


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", password="pw-for-tests-only")
    client.force_login(user)
    return client


@pytest.fixture
def job(make_team, make_host):
    host = make_host("h1", kernel="6.1", cgroup={"mode": "v2", "controllers": ["cpu", "io"]})
    job = Job.objects.create(kind="host.check", host=host, team=make_team("blue"))
    job.log("hello")
    return job


def test_a_job_and_its_lines_are_read_only_with_readable_titles(admin_client, job):
    page = admin_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    assert f"host.check #{job.pk} on h1 (queued)" in page
    assert f"job {job.pk} line 1" in str(job.lines.get()) and "JobLine object" not in page
    assert 'name="_save"' not in page and 'name="kind"' not in page
    r = admin_client.post(f"/admin/jobs/job/{job.pk}/change/", {"state": "succeeded"})
    assert r.status_code == 403 and Job.objects.get(pk=job.pk).state == "queued"
    assert admin_client.get("/admin/jobs/job/add/").status_code == 403
    assert admin_client.get(f"/admin/jobs/job/{job.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/jobs/jobline/add/").status_code == 403


def test_host_facts_are_a_table_not_json(admin_client, job):
    host = job.host
    page = admin_client.get(f"/admin/fleet/host/{host.pk}/change/").content.decode()
    assert '<table class="host-facts">' in page and "<th>kernel</th><td>6.1</td>" in page
    assert "mode: v2, controllers: cpu, io" in page and 'name="facts"' not in page
    assert f"<title>{host.name} | Change host" in page


def _act(client, action: str, host: Host):
    return client.post(
        "/admin/fleet/host/",
        {"action": action, "_selected_action": [host.pk]},
        follow=True,
    )


def test_host_actions_are_logged_as_events(admin_client, make_host, monkeypatch):
    monkeypatch.setattr("webapp.fleet.broker.revoke_host", lambda name: None)
    host = make_host("h2")
    Host.objects.filter(pk=host.pk).update(credential_hash="x" * 64)
    for action, state in (("drain", "draining"), ("cordon", "cordoned"), ("uncordon", "online")):
        _act(admin_client, action, host)
        assert Host.objects.get(pk=host.pk).state == state
    _act(admin_client, "revoke_credential", host)
    assert Host.objects.get(pk=host.pk).credential_hash == ""
    kinds = list(HostEvent.objects.filter(host=host).order_by("id").values_list("kind", "detail"))
    assert kinds == [
        ("drained", "by boss"),
        ("cordoned", "by boss"),
        ("uncordoned", "by boss"),
        ("revoked", "by boss"),
    ]


def test_an_enrolment_token_is_shown_once_and_its_digest_never(admin_client, make_host):
    host = make_host("h3")
    r = _act(admin_client, "issue_token", host)
    shown = [str(m) for m in get_messages(r.wsgi_request)] or [r.content.decode()]
    token = next(w for text in shown for w in text.split() if w.startswith("wharf-enrol-"))
    row = EnrollmentToken.objects.get(host_name="h3")
    assert HostEvent.objects.filter(host=host, kind="token_issued").exists()
    r = admin_client.post("/admin/fleet/enrollmenttoken/add/", {"host_name": "", "minutes": 30})
    assert r.status_code == 302 and EnrollmentToken.objects.count() == 2
    listing = admin_client.get("/admin/fleet/enrollmenttoken/").content.decode()
    detail = admin_client.get(f"/admin/fleet/enrollmenttoken/{row.pk}/change/").content.decode()
    for page in (listing, detail):
        assert row.token_hash not in page and token not in page
    bad = admin_client.post("/admin/fleet/enrollmenttoken/add/", {"host_name": "a/b", "minutes": 5})
    assert bad.status_code == 200 and EnrollmentToken.objects.count() == 2


def test_api_tokens_are_listed_by_name_never_by_digest(admin_client, make_user):
    token, text = ApiToken.issue(make_user("carol"), "ci", days=5)
    listing = admin_client.get("/admin/accounts/apitoken/").content.decode()
    assert "ci" in listing and "carol" in listing
    detail = admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    for page in (listing, detail):
        assert token.digest not in page and text not in page
    assert token.digest[:8] in detail
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403


def test_memberships_and_quotas_are_listed_by_name_with_use(admin_client, make_team, make_user):
    from webapp.accounts.models import Quota

    team = make_team("blue")
    make_user("alice", team=team, role="admin")
    Quota.objects.create(team=team, containers=5, memory=1 << 30)
    members = admin_client.get("/admin/accounts/membership/").content.decode()
    assert "alice" in members and "blue" in members and "Team admin" in members
    assert "Membership object" not in members
    quotas = admin_client.get("/admin/accounts/quota/").content.decode()
    assert "blue" in quotas and "1 GiB" in quotas and "0 containers, 0 CPUs" in quotas
    assert "Quota object" not in quotas
