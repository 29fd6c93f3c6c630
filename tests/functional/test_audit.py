"""The audit log: every change leaves an entry (who, what, which, team, when, from where,
before and after), read by fleet admins and by each team's admins for their team, never
changed or deleted through the site."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from webapp.audit.models import AuditEntry
from webapp.fleet.models import Host
from webapp.inventory.models import Volume


@pytest.fixture
def blue(make_team, make_user, make_host, grant, monkeypatch):
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: None)
    monkeypatch.setattr("webapp.fleet.broker.revoke_host", lambda name: None)
    team = make_team("blue")
    grant(team, make_host("h1", cpus=8, memory_bytes=8 << 30))
    return team


@pytest.fixture
def boss(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", password="pw-for-tests-only")
    client.force_login(user)
    return client


def _entries(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


def test_a_job_asked_through_the_api_is_logged_with_its_requester_and_address(
    blue, make_user, api_client
):
    alice = make_user("alice", team=blue)
    r = api_client(alice).post(
        "/api/v1/containers/",
        {"image": "busybox", "env": {"PASSWORD": "hunter2", "MODE": "x"}},
        format="json",
        REMOTE_ADDR="192.0.2.7",
    )
    assert r.status_code == 202, r.content
    (entry,) = _entries(action="job.create")
    assert (entry.actor_name, entry.team_name, entry.address) == ("alice", "blue", "192.0.2.7")
    assert (entry.object_type, entry.object_id) == ("job", str(r.json()["job"]["id"]))
    assert entry.after["kind"] == "container.create" and entry.after["host"] == "h1"
    assert entry.after["params"]["env"] == {"PASSWORD": "…", "MODE": "…"}, "values never logged"
    assert "hunter2" not in str(entry.after)


def test_memberships_quotas_and_grants_are_logged_on_every_path(blue, boss, make_host):
    out = io.StringIO()
    call_command("teams", "add", "blue", "carol", "viewer", stdout=out)
    call_command("teams", "quota", "blue", "--containers", "3", stdout=out)
    call_command("teams", "grant", "blue", make_host("h2").name, stdout=out)
    created = _entries(action="membership.create")[-1]
    assert created.actor_name == "" and created.after["role"] == "viewer"
    assert created.after["user"] == "carol" and created.team_name == "blue"
    assert _entries(object_type="quota")[-1].after["containers"] == 3
    assert _entries(action="hostgrant.create")[-1].after == {"team": "blue", "host": "h2"}

    from webapp.accounts.models import Membership

    m = Membership.objects.get(user__username="carol")
    r = boss.post(
        f"/admin/accounts/team/{blue.pk}/change/",
        _team_form(blue, m, role="operator"),
        REMOTE_ADDR="198.51.100.1",
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    (update,) = _entries(action="membership.update")
    assert (update.actor_name, update.address) == ("boss", "198.51.100.1")
    assert update.before["role"] == "viewer" and update.after["role"] == "operator"
    m.delete()
    assert _entries(action="membership.delete")[-1].before["user"] == "carol"


def _team_form(team, membership, role):
    from webapp.accounts.models import Quota
    from webapp.fleet.models import HostGrant

    quota = Quota.objects.get(team=team)
    grants = list(HostGrant.objects.filter(team=team))
    data = {
        "name": team.name,
        "slug": team.slug,
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": membership.pk,
        "memberships-0-team": team.pk,
        "memberships-0-user": membership.user_id,
        "memberships-0-role": role,
        "quota-TOTAL_FORMS": "1",
        "quota-INITIAL_FORMS": "1",
        "quota-0-id": quota.pk,
        "quota-0-team": team.pk,
        "quota-0-containers": quota.containers or "",
        "host_grants-TOTAL_FORMS": str(len(grants)),
        "host_grants-INITIAL_FORMS": str(len(grants)),
    }
    for i, g in enumerate(grants):
        data.update({f"host_grants-{i}-id": g.pk, f"host_grants-{i}-team": team.pk})
        data[f"host_grants-{i}-host"] = g.host_id
    return data


def test_host_actions_tokens_and_adoption_are_logged(blue, boss, make_user):
    host = Host.objects.get(name="h1")
    Host.objects.filter(pk=host.pk).update(credential_hash="x" * 64)
    for action in ("cordon", "drain", "uncordon", "revoke_credential"):
        boss.post("/admin/fleet/host/", {"action": action, "_selected_action": [host.pk]})
    actions = [(e.action, e.actor_name, e.after) for e in _entries(object_type="host")]
    assert actions == [
        ("host.cordon", "boss", {"state": "cordoned"}),
        ("host.drain", "boss", {"state": "draining"}),
        ("host.uncordon", "boss", {"state": "online"}),
        ("host.revoke", "boss", {"credential": False}),
    ]
    from webapp.accounts.tokens import ApiToken

    token, text = ApiToken.issue(make_user("dave"), "ci")
    token.delete()
    assert [e.action for e in _entries(object_type="apitoken")] == [
        "apitoken.create",
        "apitoken.revoke",
    ]
    assert text not in str([e.after for e in _entries(object_type="apitoken")])
    vol = Volume.objects.create(host=host, engine_id="v1", name="v1")
    r = boss.post(
        f"/api/v1/volumes/{vol.pk}/adopt/", {"team": "blue"}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    (adopt,) = _entries(action="volume.adopt")
    assert adopt.before == {"team": None} and adopt.after["team"] == "blue"
    assert adopt.team_name == "blue" and adopt.actor_name == "boss"


@pytest.fixture
def logged(blue, make_team, make_user, api_client):
    """One entry of team blue, one of team red, one of no team; users of each kind."""
    from webapp.audit.services import record

    red = make_team("red")
    record("job.create", object_type="job", object_id=1, team=blue)
    record("job.create", object_type="job", object_id=2, team=red)
    record("host.cordon", object_type="host", object_id=3)
    users = {
        "admin": make_user("blue-admin", team=blue, role="admin"),
        "operator": make_user("blue-op", team=blue, role="operator"),
        "fleet": make_user("fleet", staff=True),
    }
    return {k: api_client(u) for k, u in users.items()}, users


def test_team_admins_read_their_teams_entries_and_fleet_admins_all(logged):
    clients, _ = logged
    mine = clients["admin"].get("/api/v1/audit/").json()["results"]
    assert {e["team"] for e in mine} == {"blue"}, "its grants and memberships too"
    assert [e["object_id"] for e in mine if e["object_type"] == "job"] == ["1"]
    every = clients["fleet"].get("/api/v1/audit/", {"object": "job"}).json()["results"]
    assert sorted(e["object_id"] for e in every) == ["1", "2"]
    assert clients["fleet"].get("/api/v1/audit/", {"object": "host"}).json()["count"] == 1
    r = clients["operator"].get("/api/v1/audit/")
    assert r.status_code == 403 and "team admins" in r.json()["detail"]
    other = AuditEntry.objects.get(object_type="job", object_id="2")
    assert clients["admin"].get(f"/api/v1/audit/{other.pk}/").status_code == 404
    for method in ("post", "put", "patch", "delete"):
        assert getattr(clients["fleet"], method)(f"/api/v1/audit/{other.pk}/").status_code == 405


def test_the_list_filters_by_actor_action_team_object_and_time(logged):
    clients, _ = logged
    fleet = clients["fleet"]

    def ids(**q):
        return sorted(e["object_id"] for e in fleet.get("/api/v1/audit/", q).json()["results"])

    assert ids(action="job") == ["1", "2"] and ids(action="host.cordon") == ["3"]
    assert ids(team="red") == ["2"] and ids(object="job:2") == ["2"] and ids(object="host") == ["3"]
    assert ids(actor="nobody") == []
    assert len(ids(since="2000-01-01T00:00Z")) == AuditEntry.objects.count()
    assert ids(until="2000-01-01T00:00Z") == []
    r = fleet.get("/api/v1/audit/", {"since": "yesterday"})
    assert r.status_code == 400 and "since" in r.json()


def test_the_page_lists_and_filters_and_is_for_admins_only(logged, client):
    _, users = logged
    client.force_login(users["admin"])
    page = client.get("/audit/", {"action": "job"}).content.decode()
    assert 'id="audit-entries"' in page and "job.create" in page and "host.cordon" not in page
    bad = client.get("/audit/", {"since": "soon"})
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.content.decode()
    client.force_login(users["operator"])
    assert client.get("/audit/").status_code == 403


def test_entries_are_never_changed_or_deleted(logged, boss):
    entry = AuditEntry.objects.first()
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    assert boss.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200
    assert boss.post(f"/admin/audit/auditentry/{entry.pk}/change/", {}).status_code == 403
    assert boss.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert boss.get("/admin/audit/auditentry/add/").status_code == 403
    listing = boss.get("/admin/audit/auditentry/").content.decode()
    assert "job.create" in listing and "AuditEntry object" not in listing


def test_registry_changes_are_logged_without_their_secrets(blue, make_user):
    from webapp.registries.services import remove_registry, save_registry

    alice = make_user("alice", team=blue, role="admin")
    reg = save_registry(
        alice, None, team=blue, name="hub", host="r.example", username="u", password="s3cret"
    )
    save_registry(alice, reg, password="n3w")
    remove_registry(alice, reg)
    entries = _entries(object_type="registry")
    assert [e.action for e in entries] == ["registry.create", "registry.update", "registry.delete"]
    assert entries[1].before["credentials"] != entries[1].after["credentials"]
    assert "s3cret" not in str([(e.before, e.after) for e in entries])
    assert entries[0].team_name == "blue" and entries[0].actor_name == ""


def test_build_arguments_and_secret_named_values_are_logged_by_name_only():
    from webapp.audit.services import redact

    params = {
        "tag": ["app:1"],
        "build_args": ["GITHUB_PAT=ghp_abc", "MODE=fast"],
        "nested": {"registry_password": "hunter2", "keep": "seen"},
    }
    assert redact(params) == {
        "tag": ["app:1"],
        "build_args": ["GITHUB_PAT=…", "MODE=…"],
        "nested": {"registry_password": "…", "keep": "seen"},
    }
