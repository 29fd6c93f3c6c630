"""Placement's room: a host's CPUs and memory less the limits of what runs there (or is being
made for it), so a full host is passed over even when it has the image."""

from __future__ import annotations

import pytest

from webapp.errors import Invalid
from webapp.inventory.models import Container, Image
from webapp.inventory.operations import place, room

GIB = 1024**3


@pytest.fixture
def two_hosts(make_team, make_user, make_host, grant):
    team = make_team("blue")
    full = make_host("a-full", cpus=2, memory_bytes=4 * GIB)
    free = make_host("b-free", cpus=2, memory_bytes=4 * GIB)
    grant(team, full, free)
    # the full host has the image and would be chosen if room were not counted
    Image.objects.create(host=full, team=team, engine_id="sha256:" + "a" * 64, tags=["app:latest"])
    return team, full, free, make_user(team=team)


def _running(host, team, name, cpus=0.0, memory=0, state="running", engine_id=None):
    return Container.objects.create(
        host=host,
        team=team,
        engine_id=engine_id or name * 8,
        name=name,
        image="app",
        state=state,
        cpus=cpus,
        memory=memory,
    )


def test_a_full_host_is_passed_over_for_one_with_room(two_hosts):
    team, full, free, user = two_hosts
    assert place(user, "app", cpus=1, memory=GIB, team=team) == full  # the image is there
    _running(full, team, "big", cpus=1.5, memory=3 * GIB)
    assert room([full, free])[full.pk] == (0.5, GIB)
    assert place(user, "app", cpus=1, team=team) == free
    assert place(user, "app", memory=2 * GIB, team=team) == free
    assert place(user, "app", cpus=0.5, memory=GIB, team=team) == full, "exactly what is left"


def test_stopped_containers_free_their_room_and_pending_ones_hold_it(two_hosts):
    team, full, free, user = two_hosts
    _running(full, team, "stopped", cpus=2, state="exited")
    assert place(user, "app", cpus=2, team=team) == full
    _running(full, team, "coming", cpus=2, state="created", engine_id="pending-1")
    assert place(user, "app", cpus=2, team=team) == free


def test_no_host_with_room_is_a_field_error(two_hosts):
    team, full, free, user = two_hosts
    _running(full, team, "x", cpus=2)
    _running(free, team, "y", cpus=2)
    with pytest.raises(Invalid) as caught:
        place(user, "app", cpus=1, team=team)
    assert caught.value.field == "host" and "room" in str(caught.value)
    assert place(user, "app", team=team) == full, "no limit asked: any host will do"


def test_the_api_stores_the_limits_on_the_record(two_hosts, api_client, monkeypatch):
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: True)
    team, full, free, user = two_hosts
    _running(full, team, "big", cpus=2)
    r = api_client(user).post(
        "/api/v1/containers/", {"image": "app", "cpus": 1.5, "memory": "1g"}, format="json"
    )
    assert r.status_code == 202, r.content
    record = Container.objects.get(pk=r.json()["container"]["id"])
    assert (record.host, record.cpus, record.memory) == (free, 1.5, GIB)
