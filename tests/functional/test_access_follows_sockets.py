"""Open sockets follow their user's access: a member taken out of a team stops hearing it, the
console they had open is shut, a fleet admin made an ordinary user loses the fleet, a new
member hears the new team, all without reconnecting (``webapp.accounts.access_watch``)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.accounts.models import Membership
from webapp.asgi import application
from webapp.fleet import broker, credentials
from webapp.inventory.models import Container
from webapp.jobs.services import do_create_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(make_team, make_user, make_host, grant, monkeypatch):
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: None)
    a, b = make_team("a"), make_team("b")
    ha, hb = make_host("ha"), make_host("hb")
    grant(a, ha)
    grant(b, hb)
    return {
        "a": a,
        "b": b,
        "ha": ha,
        "hb": hb,
        "alice": make_user("alice", team=a),
        "carol": make_user("carol", team=b),
        "root": make_user("root", staff=True),
    }


def _socket(user, path: str) -> WebsocketCommunicator:
    c = Client()
    c.force_login(user)
    cookie = f"sessionid={c.cookies['sessionid'].value}".encode()
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)]
    return WebsocketCommunicator(application, path, headers=headers)


async def _jobs_heard(comm: WebsocketCommunicator) -> list[str]:
    """The hosts of the job changes the socket has now (after a short wait for stragglers)."""
    heard = []
    while not await comm.receive_nothing(timeout=0.5):
        message = json.loads(await comm.receive_from())
        if message["type"] == "inventory" and message["kind"] == "job":
            heard.append(message["object"]["host"])
    return heard


async def _close_code(comm: WebsocketCommunicator) -> int:
    while True:
        out = await comm.receive_output(timeout=5)
        if out["type"] == "websocket.close":
            return out.get("code", 1000)


async def _regrouped(world) -> None:
    """Wait until the in-memory layer's groups say both sockets regrouped: alice in team
    b's and out of a's, nobody left in the fleet admins' group."""
    import asyncio

    from channels.layers import get_channel_layer

    from webapp.jobs.publish import ALL_GROUP, team_group

    groups = get_channel_layer().groups
    deadline = asyncio.get_running_loop().time() + 15
    while (
        groups.get(ALL_GROUP)
        or groups.get(team_group(world["a"].pk))
        or not groups.get(team_group(world["b"].pk))
    ):
        assert asyncio.get_running_loop().time() < deadline, f"never regrouped: {groups}"
        await asyncio.sleep(0.02)


def _job(world, host: str, team: str) -> None:
    do_create_job(world["root"], "host.check", world[host], world[team])


def test_the_lists_socket_follows_memberships_and_fleet_admin_flags(world):
    alice, root = world["alice"], world["root"]
    a_sock, root_sock = _socket(alice, "/ws/inventory/"), _socket(root, "/ws/inventory/")

    async def scenario() -> dict[str, list[str]]:
        heard: dict[str, list[str]] = {}
        for comm in (a_sock, root_sock):
            assert (await comm.connect())[0]
            assert json.loads(await comm.receive_from())["type"] == "subscribed"
        await database_sync_to_async(_job)(world, "hb", "b")
        heard["before"] = await _jobs_heard(a_sock)
        assert await _jobs_heard(root_sock) == ["hb"], "a fleet admin hears every team"

        @database_sync_to_async
        def change() -> None:
            Membership.objects.create(user=alice, team=world["b"], role="viewer")
            Membership.objects.filter(user=alice, team=world["a"]).delete()
            root.is_superuser = root.is_staff = False
            root.save()

        await change()
        await _regrouped(world)  # before the next jobs: they go to the groups as they are
        await database_sync_to_async(_job)(world, "hb", "b")
        await database_sync_to_async(_job)(world, "ha", "a")
        heard["alice after"] = await _jobs_heard(a_sock)
        heard["root after"] = await _jobs_heard(root_sock)
        for comm in (a_sock, root_sock):
            await comm.disconnect()
        return heard

    heard = async_to_sync(scenario)()
    assert heard["before"] == [], "team b's job is not alice's"
    assert heard["alice after"] == ["hb"], "now in b and out of a: b's job only"
    assert heard["root after"] == [], "no longer a fleet admin, in no team: nothing"


def test_the_job_socket_closes_when_its_job_is_no_longer_the_users(world):
    alice = world["alice"]
    job = do_create_job(world["root"], "host.check", world["ha"], world["a"])

    comm = _socket(alice, f"/ws/jobs/{job.pk}/")

    async def scenario() -> int:
        assert (await comm.connect())[0]
        assert json.loads(await comm.receive_from())["type"] == "state"
        await database_sync_to_async(
            lambda: Membership.objects.filter(user=alice, team=world["a"]).delete()
        )()
        return await _close_code(comm)

    assert async_to_sync(scenario)() == 4404


def _make_viewer(user, team) -> None:
    """As a team admin does it (``webapp.accounts.services``: a save, not a bulk update)."""
    membership = Membership.objects.get(user=user, team=team)
    membership.role = "viewer"
    membership.save()


def test_an_open_console_is_shut_when_its_user_is_made_a_viewer(world, grant, monkeypatch):
    """The exec console is a root shell in the container: it must not outlive the right to
    open it (an operator's; a viewer may watch logs, not type)."""
    sent: list = []
    monkeypatch.setattr(broker, "send_stream", lambda host, env: sent.append(env))
    host, credential = credentials.enroll(
        credentials.issue_enrollment_token("hc"), "hc", {"kernel": "test"}
    )
    grant(world["a"], host)
    box = Container.objects.create(host=host, team=world["a"], engine_id="e" * 64, name="web")

    browser = _socket(world["alice"], f"/ws/containers/{box.pk}/exec/")

    async def scenario() -> tuple[int, int]:
        assert (await browser.connect())[0]
        while not sent:
            await browser.receive_nothing(timeout=0.05)
        headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Host {credential}".encode())]
        host_end = WebsocketCommunicator(
            application, f"/ws/host/streams/{sent[0]['stream']}/", headers=headers
        )
        assert (await host_end.connect())[0]
        assert json.loads(await host_end.receive_from(timeout=5)) == {"type": "paired"}
        await host_end.send_to(bytes_data=b"/ # ")
        assert await browser.receive_from(timeout=5) == b"/ # "
        await database_sync_to_async(_make_viewer)(world["alice"], world["a"])
        browser_code = await _close_code(browser)
        await browser.disconnect()
        return browser_code, await _close_code(host_end)

    browser_code, host_code = async_to_sync(scenario)()
    assert browser_code == 4403, "a viewer now: the console is shut"
    assert host_code == 1000, "and the host's end of the shell with it"
