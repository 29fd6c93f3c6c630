"""The inventory REST API and websocket: what a user sees of each host's objects, and adopt.

Team members see their teams' objects; unmanaged ones (no team) are the
fleet admins' alone; a superuser adopts one into a team. Every answer is
checked against the OpenAPI schema the site publishes.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.asgi import application
from webapp.inventory import services
from webapp.inventory.models import Container, Image, Network, Volume


@pytest.fixture
def inventory(make_host, make_team, grant):
    """Host h1 (granted to team blue) with one container of blue, one unmanaged, and one image,
    volume, network."""
    host = make_host("h1")
    blue = make_team("blue")
    grant(blue, host)
    mine = Container.objects.create(
        host=host,
        team=blue,
        engine_id="a" * 64,
        name="web",
        image="busybox",
        state="running",
        labels={"app": "web", "tier": "front", "com.example.role": "db"},
        ports=[{"container_port": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "host_port": 8080}],
        mounts=[{"type": "volume", "name": "d", "source": "/v", "destination": "/d", "rw": True}],
        networks=[{"name": "bridge", "ip_address": "172.19.0.2", "mac_address": "02:42"}],
    )
    stray = Container.objects.create(
        host=host, engine_id="b" * 64, name="stray", image="busybox", state="exited", exit_code=1
    )
    Image.objects.create(host=host, engine_id="sha256:" + "c" * 64, tags=["busybox:latest"], size=9)
    Volume.objects.create(host=host, team=blue, engine_id="d", name="d")
    Network.objects.create(host=host, engine_id="e" * 64, name="bridge", driver="bridge")
    return host, blue, mine, stray


def _schema(client) -> dict:
    return client.get("/api/schema/?format=json").json()


def _json_schema(node):
    """OpenAPI 3.0's ``nullable`` as JSON Schema, so jsonschema can check answers."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def conforms(schema: dict, path: str, method: str, status: int, body) -> None:
    answer = schema["paths"][path][method]["responses"][str(status)]
    shape = answer["content"]["application/json"]["schema"]
    checked = {**_json_schema(shape), "$defs": _json_schema(schema["components"]["schemas"])}
    jsonschema.validate(body, checked)


@pytest.mark.parametrize("kind", ["containers", "images", "volumes", "networks"])
def test_every_list_and_detail_answer_matches_the_schema(kind, inventory, make_user, api_client):
    client = api_client(make_user(staff=True))
    schema = _schema(client)
    r = client.get(f"/api/v1/{kind}/")
    assert r.status_code == 200 and r.json()["count"] >= 1
    conforms(schema, f"/api/v1/{kind}/", "get", 200, r.json())
    first = r.json()["results"][0]
    r = client.get(f"/api/v1/{kind}/{first['id']}/")
    assert r.status_code == 200
    conforms(schema, f"/api/v1/{kind}/{{id}}/", "get", 200, r.json())
    assert set(first) >= {"id", "engine_id", "host", "team", "labels", "created"}


def test_a_container_reads_in_the_issues_shape(inventory, make_user, api_client):
    _, _, mine, _ = inventory
    body = api_client(make_user(staff=True)).get(f"/api/v1/containers/{mine.pk}/").json()
    assert list(body) == [
        "id", "engine_id", "name", "host", "team", "image", "command", "state", "exit_code",
        "health", "restart_count", "ports", "mounts", "networks", "labels", "created",
        "started", "finished", "cpus", "memory", "size_rw", "size_root_fs",
    ]  # fmt: skip
    assert (body["host"], body["team"], body["state"]) == ("h1", "blue", "running")


def test_members_see_their_teams_objects_and_never_unmanaged_ones(
    inventory, make_user, make_team, api_client
):
    _, blue, mine, stray = inventory
    alice = api_client(make_user(team=blue, role="viewer"))
    names = [c["name"] for c in alice.get("/api/v1/containers/").json()["results"]]
    assert names == ["web"]
    assert alice.get(f"/api/v1/containers/{stray.pk}/").status_code == 404
    assert alice.get("/api/v1/images/").json()["count"] == 0
    mallory = api_client(make_user(team=make_team("red")))
    assert mallory.get("/api/v1/containers/").json()["count"] == 0
    assert mallory.get(f"/api/v1/containers/{mine.pk}/").status_code == 404
    admin = api_client(make_user(staff=True))
    assert admin.get("/api/v1/containers/").json()["count"] == 2


@pytest.mark.parametrize(
    "query,names",
    [
        ("host=h1", ["stray", "web"]),
        ("host=h2", []),
        ("team=blue", ["web"]),
        ("state=exited", ["stray"]),
        ("state=unknown", []),
        ("name=tra", ["stray"]),
        ("label=app", ["web"]),
        ("label=tier=front", ["web"]),
        ("label=tier=back", []),
        ("label=com.example.role=db", ["web"]),
    ],
)
def test_the_list_filters(inventory, make_user, api_client, query, names):
    r = api_client(make_user(staff=True)).get(f"/api/v1/containers/?{query}")
    assert r.status_code == 200
    assert sorted(c["name"] for c in r.json()["results"]) == names


@pytest.mark.parametrize(
    "query,field", [("state=sleeping", "state"), ("label==x", "label"), ("team=a%20b", "team")]
)
def test_a_bad_filter_is_a_400_naming_it(inventory, make_user, api_client, query, field):
    r = api_client(make_user(staff=True)).get(f"/api/v1/containers/?{query}")
    assert r.status_code == 400 and field in r.json()


def test_images_filter_by_tag(inventory, make_user, api_client):
    client = api_client(make_user(staff=True))
    assert client.get("/api/v1/images/?name=busybox").json()["count"] == 1
    assert client.get("/api/v1/images/?name=alpine").json()["count"] == 0


def test_only_a_superuser_adopts_an_unmanaged_object(inventory, make_user, api_client):
    _, blue, _, stray = inventory
    staff = api_client(make_user(staff=True))
    r = staff.post(f"/api/v1/containers/{stray.pk}/adopt/", {"team": "blue"}, format="json")
    assert r.status_code == 403
    member = api_client(make_user(team=blue))
    r = member.post(f"/api/v1/containers/{stray.pk}/adopt/", {"team": "blue"}, format="json")
    assert r.status_code == 404
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="pw-for-tests-only")
    client = api_client(root)
    r = client.post(f"/api/v1/containers/{stray.pk}/adopt/", {"team": "nope"}, format="json")
    assert r.status_code == 400 and "team" in r.json()
    r = client.post(f"/api/v1/containers/{stray.pk}/adopt/", {"team": "blue"}, format="json")
    assert r.status_code == 200 and r.json()["team"] == "blue"
    conforms(_schema(client), "/api/v1/containers/{id}/adopt/", "post", 200, r.json())
    assert [c["name"] for c in member.get("/api/v1/containers/").json()["results"]] == [
        "stray",
        "web",
    ]


def test_the_admin_adopts_with_an_action(inventory, client):
    from django.contrib.auth import get_user_model

    _, blue, _, stray = inventory
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-tests"))
    r = client.post(
        "/admin/inventory/container/",
        {"action": "adopt", "_selected_action": [stray.pk], "team": blue.pk, "index": 0},
    )
    assert r.status_code == 302
    assert Container.objects.get(pk=stray.pk).team == blue


# --- the websocket --------------------------------------------------------------------


def _cookie(user) -> bytes:
    c = Client()
    c.force_login(user)
    return f"sessionid={c.cookies['sessionid'].value}".encode()


def _socket(query: str, cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/inventory/?{query}", headers=headers)


def _run(coro):
    from asgiref.sync import async_to_sync

    return async_to_sync(coro)()


@pytest.mark.django_db(transaction=True)
def test_a_member_is_told_of_their_teams_changes_only(inventory, make_user):
    _, blue, mine, stray = inventory
    alice = _cookie(make_user(team=blue))

    async def scenario():
        comm = _socket("host=h1", alice)
        assert (await comm.connect())[0]
        assert json.loads(await comm.receive_from())["type"] == "subscribed"

        @database_sync_to_async
        def change():
            services.mark_unknown("h1")  # both containers change; alice may see one

        await change()
        msg = json.loads(await comm.receive_from(timeout=5))
        assert (msg["action"], msg["kind"], msg["object"]["name"]) == (
            "changed",
            "container",
            "web",
        )
        assert msg["object"]["state"] == "unknown"
        assert await comm.receive_nothing(timeout=0.5)
        await comm.disconnect()

    _run(scenario)


@pytest.mark.django_db(transaction=True)
def test_a_quiet_socket_gets_keepalives(inventory, make_user, monkeypatch):
    monkeypatch.setattr("webapp.inventory.consumers.KEEPALIVE_SECONDS", 0.2)
    admin = _cookie(make_user(staff=True))

    async def scenario():
        comm = _socket("", admin)
        assert (await comm.connect())[0]
        assert json.loads(await comm.receive_from())["type"] == "subscribed"
        assert json.loads(await comm.receive_from(timeout=5)) == {"type": "keepalive"}
        await comm.disconnect()

    _run(scenario)


@pytest.mark.django_db(transaction=True)
def test_the_socket_refuses_strangers_and_other_teams(inventory, make_user, make_team):
    _, _blue, _, _ = inventory
    red = _cookie(make_user(team=make_team("red")))

    async def code(comm):
        assert (await comm.connect())[0]
        out = await comm.receive_output(timeout=5)
        assert out["type"] == "websocket.close"
        return out["code"]

    async def scenario():
        assert await code(_socket("")) == 4401
        assert await code(_socket("team=blue", red)) == 4404
        assert await code(_socket("host=nowhere", red)) == 4404
        assert await code(_socket("host=h1", red)) == 4404, "h1 is not granted to red"

    _run(scenario)
