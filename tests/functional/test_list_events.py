"""The hosts and jobs lists follow the inventory socket: each change goes to the admins and to the
teams that may see it (a job: its team; a host: the teams it is granted to, alone or through a
pool), never to another team's members."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.asgi import application
from webapp.fleet.models import Host, HostPool
from webapp.fleet.services import set_admin_state
from webapp.jobs.services import claim_job, do_create_job, finish_job


@pytest.fixture
def fleet(make_team, make_user, make_host, grant, monkeypatch):
    """Team a on host ha, team b on host hb, a pooled host hp for b, and one member each."""
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: None)
    a, b = make_team("a"), make_team("b")
    ha, hb, hp = make_host("ha"), make_host("hb"), make_host("hp")
    grant(a, ha)
    grant(b, hb)
    pool = HostPool.objects.create(name="pool-b")
    pool.hosts.add(hp)
    pool.teams.add(b)
    users = {
        "alice": make_user("alice", team=a, role="viewer"),
        "bob": make_user("bob", team=b),
        "root": make_user("root", staff=True),
    }
    return a, b, ha, hb, hp, users


def _socket(user) -> WebsocketCommunicator:
    c = Client()
    c.force_login(user)
    cookie = f"sessionid={c.cookies['sessionid'].value}".encode()
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)]
    return WebsocketCommunicator(application, "/ws/inventory/", headers=headers)


async def _events(comm: WebsocketCommunicator) -> list[tuple[str, str, str]]:
    """Every (kind, host, state) the socket has now, after a short wait for stragglers."""
    seen = []
    while not await comm.receive_nothing(timeout=0.5):  # (a timed-out receive ends the app)
        message = json.loads(await comm.receive_from())
        if message["type"] == "inventory":
            obj = message["object"]
            seen.append((message["kind"], obj["host"], obj["state"]))
    return seen


# the consumers read the database from their own threads: the rows must be committed
@pytest.mark.django_db(transaction=True)
def test_a_job_and_a_host_are_told_to_their_teams_only(fleet):
    a, _, ha, _, _, users = fleet
    sockets = {name: _socket(user) for name, user in users.items()}

    @database_sync_to_async
    def change():
        job = do_create_job(users["root"], "host.check", ha, a)
        claim_job(ha, job.pk, job.message_id, redelivered=False)
        finish_job(ha, job.pk, "succeeded", {}, "", "")
        set_admin_state(ha, "cordon", users["root"])
        Host.beat("ha")

    async def scenario():
        for comm in sockets.values():
            assert (await comm.connect())[0]
            assert json.loads(await comm.receive_from())["type"] == "subscribed"
        await change()
        seen = {name: await _events(comm) for name, comm in sockets.items()}
        for comm in sockets.values():
            await comm.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    wanted = [
        ("job", "ha", "queued"),
        ("job", "ha", "running"),
        ("job", "ha", "succeeded"),
        ("host", "ha", "cordoned"),
        ("host", "ha", "cordoned"),  # the heartbeat: a cordon survives it
    ]
    assert seen["alice"] == wanted, "a viewer of team a follows its jobs and hosts"
    assert seen["root"] == wanted, "fleet admins follow everything"
    assert seen["bob"] == [], "team b hears nothing of team a's job or host"


@pytest.mark.django_db(transaction=True)
def test_a_host_granted_through_a_pool_is_told_to_that_team_alone(fleet):
    *_, users = fleet
    alice, bob = _socket(users["alice"]), _socket(users["bob"])

    @database_sync_to_async
    def change():
        for name in ("hp", "hb"):
            set_admin_state(Host.objects.get(name=name), "drain", users["root"])
        Host.mark_unreachable()  # no host is stale: nothing more is told

    async def scenario():
        for comm in (alice, bob):
            assert (await comm.connect())[0]
            assert json.loads(await comm.receive_from())["type"] == "subscribed"
        await change()
        seen = await _events(alice), await _events(bob)
        for comm in (alice, bob):
            await comm.disconnect()
        return seen

    to_alice, to_bob = async_to_sync(scenario)()
    assert to_alice == []
    assert to_bob == [("host", "hp", "draining"), ("host", "hb", "draining")]


def test_the_api_cordons_for_fleet_admins_only(fleet, api_client):
    *_, users = fleet
    alice, bob, root = (api_client(users[n]) for n in ("alice", "bob", "root"))
    url = "/api/v1/hosts/ha/admin-state/"
    assert alice.post(url, {"action": "cordon"}, format="json").status_code == 403
    assert bob.post(url, {"action": "cordon"}, format="json").status_code == 404
    r = root.post(url, {"action": "sideways"}, format="json")
    assert r.status_code == 400 and "unknown host action" in r.json()["action"][0], r.content
    r = root.post(url, {"action": "cordon"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "cordoned"
    assert Host.objects.get(name="ha").state == "cordoned"


def test_the_cordon_api_takes_an_object_only(fleet, api_client):
    *_, users = fleet
    root = api_client(users["root"])
    for body in (["cordon"], {"action": ["cordon"]}, {}):
        r = root.post("/api/v1/hosts/ha/admin-state/", body, format="json")
        assert r.status_code == 400, (body, r.content)
    assert Host.objects.get(name="ha").state == "online"
