"""The jobs API starts by name only the kinds that act on nothing a team owns.

A job's parameters name an object by its engine name (``container=web``), which
says nothing of whose it is: on a host granted to two teams, team red could
otherwise exec in, push, browse or prune team blue's objects through
``POST /api/v1/jobs/``. Teams use the object's own action (which checks it is
theirs); fleet admins may start any kind.
"""

from __future__ import annotations

import pytest

from webapp.jobs.models import Job


@pytest.fixture
def shared_host(make_team, make_user, make_host, grant, api_client, monkeypatch):
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: None)
    host = make_host("h1", cpus=8, memory_bytes=8 << 30)
    blue, red = make_team("blue"), make_team("red")
    grant(blue, host)
    grant(red, host)
    return api_client(make_user("redop", team=red)), api_client(make_user("fleet", staff=True))


ACTING = [
    ("container.exec", {"container": "blues-web", "command": ["cat", "/secret"]}),
    ("volume.files", {"name": "blues-data"}),
    ("image.push", {"image": "blues/app", "target": "evil.example/app"}),
    ("volume.prune", {}),
    ("container.stop", {"container": "blues-web"}),
]


@pytest.mark.parametrize("kind,params", ACTING, ids=[k for k, _ in ACTING])
def test_a_team_cannot_start_a_kind_that_acts_on_an_owned_object(shared_host, kind, params):
    operator, _ = shared_host
    r = operator.post(
        "/api/v1/jobs/", {"kind": kind, "host": "h1", "params": params}, format="json"
    )
    assert r.status_code == 403, r.content
    assert "use that object's action" in r.json()["detail"]
    assert not Job.objects.exists()


def test_a_team_starts_the_open_kinds_and_a_fleet_admin_any(shared_host):
    operator, admin = shared_host
    for kind, params in [("image.pull", {"reference": "busybox"}), ("host.check", {})]:
        r = operator.post(
            "/api/v1/jobs/", {"kind": kind, "host": "h1", "params": params}, format="json"
        )
        assert r.status_code == 201, r.content
    r = admin.post(
        "/api/v1/jobs/",
        {"kind": "container.stop", "host": "h1", "params": {"container": "blues-web"}},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert sorted(Job.objects.values_list("kind", flat=True)) == [
        "container.stop", "host.check", "image.pull",
    ]  # fmt: skip
