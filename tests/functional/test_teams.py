"""Teams use the hosts granted to them; admins script teams, members, quotas and grants."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from webapp.accounts.models import Membership, Quota, Team
from webapp.fleet.models import Host, HostGrant, HostPool
from webapp.inventory.operations import place
from webapp.jobs.models import Job


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr("webapp.jobs.services.enqueue", sent.append)
    return sent


def _run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("teams", *args, stdout=out)
    return out.getvalue()


def test_a_member_sees_only_the_hosts_granted_to_their_teams(
    make_team, make_user, make_host, grant, api_client
):
    blue, red = make_team("blue"), make_team("red")
    grant(blue, make_host("h-blue"))
    grant(red, make_host("h-red"))
    pooled = make_host("h-pool")
    pool = HostPool.objects.create(name="gpu")
    pool.hosts.add(pooled)
    pool.teams.add(blue)
    alice = api_client(make_user(team=blue))
    names = [h["name"] for h in alice.get("/api/v1/hosts/").json()["results"]]
    assert names == ["h-blue", "h-pool"]
    assert alice.get("/api/v1/hosts/h-red/").status_code == 404
    admin = api_client(make_user(staff=True))
    assert admin.get("/api/v1/hosts/").json()["count"] == 3


def test_a_job_on_a_host_not_granted_to_its_team_is_refused(
    make_team, make_user, make_host, grant, api_client, queued
):
    blue, red = make_team("blue"), make_team("red")
    user = make_user(team=blue)
    Membership.objects.create(user=user, team=red, role="operator")
    grant(blue, make_host("h1"))
    client = api_client(user)
    r = client.post(
        "/api/v1/jobs/", {"kind": "host.check", "host": "h1", "team": "red"}, format="json"
    )
    assert r.status_code == 400 and r.json()["host"] == ["host h1 is not granted to team red"]
    make_host("h2")
    r = client.post("/api/v1/jobs/", {"kind": "host.check", "host": "h2"}, format="json")
    assert r.status_code == 400 and "no host named" in r.json()["host"][0]
    assert not Job.objects.exists()
    r = client.post(
        "/api/v1/jobs/", {"kind": "host.check", "host": "h1", "team": "blue"}, format="json"
    )
    assert r.status_code == 201, r.content


def test_the_scheduler_picks_only_hosts_granted_to_the_team(make_team, make_user, make_host, grant):
    blue = make_team("blue")
    user = make_user(team=blue)
    make_host("a-idle")  # first by name, emptiest, but not blue's
    grant(blue, make_host("b-granted"))
    assert place(user, "busybox", team=blue).name == "b-granted"
    assert place(user, "busybox").name == "b-granted"
    HostGrant.objects.all().delete()
    from webapp.errors import Invalid

    with pytest.raises(Invalid):
        place(user, "busybox", team=blue)


def test_teams_create_add_quota_and_grant(db, make_host, django_user_model):
    assert _run("create", "Blue Team") == "created team Blue Team\n"
    with pytest.raises(CommandError, match="exists already"):
        _run("create", "Blue Team")
    out = _run("add", "blue-team", "alice", "viewer")
    assert "created user alice; password: " in out and "alice is viewer of Blue Team" in out
    password = out.split("password: ")[1].split()[0]
    assert django_user_model.objects.get(username="alice").check_password(password)
    out = _run("add", "Blue Team", "alice", "admin")
    assert out == "alice is team admin of Blue Team\n", "an existing user gets no new password"
    assert Membership.objects.get(user__username="alice").role == "admin"
    _run("add", "Blue Team", "alice", "operator")
    assert Membership.objects.get(user__username="alice").role == "operator"
    with pytest.raises(CommandError, match="invalid choice: 'member'"):
        _run("add", "Blue Team", "alice", "member")
    with pytest.raises(CommandError, match="no such team"):
        _run("add", "nope", "bob", "operator")
    out = _run("quota", "blue-team", "--containers", "5", "--cpus", "2", "--memory", "1g")
    assert out == "quota of Blue Team: 5 containers, 2 CPUs, 1073741824 bytes of memory\n"
    quota = Quota.objects.get(team__slug="blue-team")
    assert (quota.containers, quota.cpus, quota.memory, quota.storage) == (5, 2, 1 << 30, None)
    with pytest.raises(CommandError, match="invalid storage"):
        _run("quota", "blue-team", "--storage", "lots")
    make_host("h1")
    assert _run("grant", "blue-team", "h1") == "granted h1 to Blue Team\n"
    alice = django_user_model.objects.get(username="alice")
    assert [h.name for h in Host.objects.for_user(alice)] == ["h1"]
    with pytest.raises(CommandError, match="no such host: h9"):
        _run("grant", "blue-team", "h9")
    HostPool.objects.create(name="gpu").hosts.add(make_host("h2"))
    assert _run("grant", "blue-team", "--pool", "gpu") == "granted pool gpu to Blue Team\n"
    assert [h.name for h in Host.objects.for_user(alice)] == ["h1", "h2"]
    assert Team.objects.count() == 1


def test_the_admin_team_page_edits_its_quota_and_host_grants(make_team, make_user, client):
    team = make_team("blue")
    admin = make_user(staff=True)
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    page = client.get(f"/admin/accounts/team/{team.pk}/change/")
    assert page.status_code == 200
    assert b"quota-0-containers" in page.content and b"host_grants-0-host" in page.content


def test_a_team_admin_manages_members_and_reads_quota_and_hosts(
    make_team, make_user, make_host, grant, api_client
):
    from webapp.audit.models import AuditEntry

    team = make_team("blue")
    grant(team, make_host("h1"))
    Quota.objects.create(team=team, containers=4)
    admin = api_client(make_user("ann", team=team, role="admin"))
    operator = api_client(make_user("otto", team=team, role="operator"))
    make_user("newbie")
    mine = admin.get("/api/v1/teams/blue/").json()
    assert mine["quota"]["limits"]["containers"] == 4 and mine["hosts"] == ["h1"]
    assert mine["quota"]["in_use"]["containers"] == 0
    theirs = operator.get("/api/v1/teams/blue/").json()
    assert theirs["quota"] is None and theirs["hosts"] is None
    assert {m["user"] for m in theirs["members"]} == {"ann", "otto"}
    body = {"user": "newbie", "role": "viewer"}
    assert operator.post("/api/v1/teams/blue/members/", body, format="json").status_code == 403
    r = admin.post("/api/v1/teams/blue/members/", body, format="json")
    assert r.status_code == 201 and {"user": "newbie", "role": "viewer"} in r.json()["members"]
    r = admin.patch("/api/v1/teams/blue/members/newbie/", {"role": "operator"}, format="json")
    assert r.status_code == 200 and {"user": "newbie", "role": "operator"} in r.json()["members"]
    assert admin.delete("/api/v1/teams/blue/members/newbie/").status_code == 200
    r = admin.patch("/api/v1/teams/blue/members/ann/", {"role": "viewer"}, format="json")
    assert r.status_code == 409 and "last admin" in r.json()["detail"]
    actions = list(
        AuditEntry.objects.filter(object_type="membership", actor_name="ann").values_list(
            "action", flat=True
        )
    )
    assert actions == ["membership.delete", "membership.update", "membership.create"]
