"""A member of team A is told team B's objects do not exist (404, never 403), on every path;
privileged options are refused by name, whoever asks."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.asgi import application
from webapp.inventory.models import Container, Image, Network, Volume
from webapp.jobs.models import Job


@pytest.fixture
def two_teams(make_team, make_user, make_host, grant, api_client, monkeypatch):
    """Teams a and b on their own hosts; b owns one object of each kind and a job."""
    monkeypatch.setattr("webapp.jobs.services.enqueue", lambda job: None)
    a, b = make_team("a"), make_team("b")
    ha, hb = make_host("ha"), make_host("hb")
    grant(a, ha)
    grant(b, hb)
    objects = {
        "containers": Container.objects.create(
            host=hb, team=b, engine_id="c" * 64, name="theirs", image="busybox", state="running"
        ),
        "images": Image.objects.create(
            host=hb, team=b, engine_id="sha256:" + "d" * 64, tags=["busybox:latest"]
        ),
        "volumes": Volume.objects.create(host=hb, team=b, engine_id="v", name="v"),
        "networks": Network.objects.create(
            host=hb, team=b, engine_id="n" * 64, name="net", driver="bridge"
        ),
    }
    job = Job.objects.create(kind="host.check", host=hb, team=b)
    mallory = make_user("mallory", team=a, role="admin")
    return api_client(mallory), mallory, objects, job


ACTIONS = {
    "containers": ["start", "stop", "restart", "kill", "pause", "unpause", "adopt"],
    "images": ["adopt"],
    "volumes": ["adopt"],
    "networks": ["connect", "disconnect", "adopt"],
}


@pytest.mark.parametrize("kind", sorted(ACTIONS))
def test_another_teams_objects_are_not_found_by_any_endpoint(two_teams, kind):
    client, _, objects, _ = two_teams
    pk = objects[kind].pk
    assert client.get(f"/api/v1/{kind}/").json()["count"] == 0
    assert client.get(f"/api/v1/{kind}/{pk}/").status_code == 404
    assert client.delete(f"/api/v1/{kind}/{pk}/").status_code == 404
    for action in ACTIONS[kind]:
        r = client.post(
            f"/api/v1/{kind}/{pk}/{action}/", {"container": "x", "team": "a"}, format="json"
        )
        assert r.status_code == 404, (action, r.content)
    assert not Job.objects.exclude(team__slug="b").exists()


def test_another_teams_jobs_and_hosts_are_not_found(two_teams):
    client, _, _, job = two_teams
    for url in (f"/api/v1/jobs/{job.pk}/", f"/api/v1/jobs/{job.pk}/output/", "/api/v1/hosts/hb/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 404
    assert client.get("/api/v1/jobs/").json()["count"] == 0
    for body in (
        {"kind": "host.check", "host": "hb"},
        {"kind": "host.check", "host": "ha", "team": "b"},
    ):
        r = client.post("/api/v1/jobs/", body, format="json")
        assert r.status_code == 400 and "no " in str(r.json()), r.content
    r = client.post("/api/v1/containers/", {"image": "busybox", "host": "hb"}, format="json")
    assert r.status_code == 400 and r.json()["host"] == ['no host named "hb"']
    assert Job.objects.count() == 1


# the consumers read the database from their own threads: the rows must be committed
@pytest.mark.django_db(transaction=True)
def test_another_teams_sockets_are_closed_as_not_found(two_teams):
    _, mallory, _, job = two_teams
    c = Client()
    c.force_login(mallory)
    cookie = f"sessionid={c.cookies['sessionid'].value}".encode()
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)]

    async def code(path: str) -> int:
        comm = WebsocketCommunicator(application, path, headers=headers)
        await comm.connect()
        out = await comm.receive_output(timeout=5)
        await comm.disconnect()
        assert out["type"] == "websocket.close", out
        return out["code"]

    assert async_to_sync(code)("/ws/inventory/?team=b") == 4404
    assert async_to_sync(code)("/ws/inventory/?host=hb") == 4404
    assert async_to_sync(code)(f"/ws/jobs/{job.pk}/") == 4404


@pytest.mark.parametrize(
    "option,value",
    [("privileged", True), ("cap_add", ["SYS_ADMIN"]), ("devices", ["/dev/sda"]), ("pid", "host")],
)
@pytest.mark.parametrize("staff", [False, True])
def test_privileged_options_are_refused_by_name(
    two_teams, make_user, api_client, option, value, staff
):
    client = api_client(make_user(staff=True)) if staff else two_teams[0]
    r = client.post(
        "/api/v1/containers/", {"image": "busybox", "host": "ha", option: value}, format="json"
    )
    assert r.status_code == 400
    assert r.json()[option] == [f"{option} is for fleet admins only, and no worker offers it yet"]
    for params in (
        {"image": "busybox", "network": "host"},
        {"image": "busybox", "volumes": ["/:/host"]},
    ):
        r = client.post("/api/v1/containers/", {**params, "host": "ha"}, format="json")
        assert r.status_code == 400, r.content
    assert not Job.objects.filter(kind="container.create").exists()
