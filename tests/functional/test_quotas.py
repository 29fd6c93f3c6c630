"""A team's quota is checked when a container is asked for: over a limit, a 400 saying which."""

from __future__ import annotations

import pytest

from webapp.accounts.models import Quota
from webapp.inventory.models import Container
from webapp.jobs.models import Job


@pytest.fixture
def blue(make_team, make_user, make_host, grant, api_client, monkeypatch):
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: None)
    team = make_team("blue")
    grant(team, make_host("h1", cpus=8, memory_bytes=8 << 30))
    return team, api_client(make_user(team=team))


def _run(client, **params):
    return client.post("/api/v1/containers/", {"image": "busybox", **params}, format="json")


def test_the_containers_quota_counts_records_and_pending_jobs(blue):
    team, client = blue
    Quota.objects.create(team=team, containers=2)
    assert _run(client).status_code == 202  # a record, pending until the host makes it
    r = client.post(
        "/api/v1/jobs/",
        {"kind": "container.create", "host": "h1", "params": {"image": "busybox"}},
        format="json",
    )
    assert r.status_code == 201, "asked through the jobs API: no record, but it counts"
    r = _run(client)
    assert r.status_code == 400
    assert r.json()["team"] == ["team blue: 2 of 2 containers in use; the quota is 2"]
    assert Container.objects.count() == 1 and Job.objects.count() == 2


def test_cpus_and_memory_sum_what_the_teams_containers_asked(blue):
    team, client = blue
    Quota.objects.create(team=team, cpus=2, memory=1 << 30)
    assert _run(client, cpus=1.5, memory="512m").status_code == 202
    r = _run(client, cpus=1)
    assert r.status_code == 400
    assert r.json()["cpus"] == [
        "team blue: 1.5 of 2 CPUs in use; this asks 1 more, 0.5 over the quota of 2"
    ]
    r = _run(client, memory="768m")
    assert r.status_code == 400
    assert r.json()["memory"] == [
        "team blue: 512 MiB of 1 GiB memory in use; this asks 768 MiB more, 256 MiB over the quota of 1 GiB"
    ]
    assert _run(client, cpus=0.5, memory="512m").status_code == 202, "exactly at the limit"
    assert Container.objects.count() == 2


def test_an_ended_job_without_a_record_frees_its_share(blue):
    team, client = blue
    Quota.objects.create(team=team, containers=1)
    assert _run(client).status_code == 202
    Container.objects.all().delete()  # the create failed: its record went
    Job.objects.update(state="failed")
    assert _run(client).status_code == 202


def test_no_quota_no_limit_and_other_teams_do_not_count(blue, make_team, make_host):
    team, client = blue
    red = make_team("red")
    Quota.objects.create(team=red, containers=1)
    for _ in range(3):
        assert _run(client).status_code == 202
    Quota.objects.create(team=team, containers=4)
    assert _run(client).status_code == 202
    assert _run(client).status_code == 400


def test_volume_storage_counts_the_teams_volumes_sizes(blue):
    from webapp.fleet.models import Host
    from webapp.inventory.models import Volume

    team, client = blue
    Quota.objects.create(team=team, storage=10 << 20)
    host = Host.objects.get(name="h1")
    Volume.objects.create(host=host, team=team, engine_id="a", name="a", size=6 << 20)
    Volume.objects.create(host=host, team=None, engine_id="u", name="u", size=50 << 20)
    r = client.post("/api/v1/volumes/", {"host": "h1", "name": "vb"}, format="json")
    assert r.status_code == 202, r.content
    Volume.objects.create(host=host, team=team, engine_id="c", name="c", size=5 << 20)
    r = client.post("/api/v1/volumes/", {"host": "h1", "name": "vd"}, format="json")
    assert r.status_code == 400
    assert r.json()["team"] == [
        "team blue: 11 MiB of 10 MiB volume storage in use; 1 MiB over the quota of 10 MiB"
    ]
    r = _run(client)
    assert r.status_code == 400 and "volume storage" in r.json()["team"][0]
    Volume.objects.filter(name="c").update(size=4 << 20)
    r = client.post("/api/v1/volumes/", {"host": "h1", "name": "vd"}, format="json")
    assert r.json()["team"] == [
        "team blue: 10 MiB of 10 MiB volume storage in use; the quota is 10 MiB"
    ]
    Volume.objects.filter(name="c").delete()
    assert _run(client).status_code == 202


def test_a_label_anyone_may_set_is_never_taken_for_a_job(blue, make_host):
    """``wharf.job`` is a label: a container made behind the site's back (and adopted) may
    carry any text there. It counts as a container and asks no CPUs; the join compares
    text, so PostgreSQL never has to cast it."""
    from webapp.accounts.quotas import in_use

    team, client = blue
    assert _run(client, cpus=1.5).status_code == 202
    host = make_host("h2")
    for i, text in enumerate(["not-a-job", "", "12abc", "-1"]):
        Container.objects.create(
            host=host, team=team, engine_id=f"x{i}", name=f"x{i}", labels={"wharf.job": text}
        )
    assert in_use(team) == {"containers": 5, "cpus": 1.5, "memory": 0, "storage": 0}
