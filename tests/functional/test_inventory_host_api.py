"""The host API's inventory calls: snapshots, batches of changes by cursor, one host's reach.

A host reports only its own objects (nothing in a body names a host), a
batch is applied once (its ``after`` must be the stored cursor), and a bad
body is a 400 naming the field at fault, never a 500 or a half-applied batch.
"""

from __future__ import annotations

import copy

import pytest
from rest_framework.test import APIClient

from webapp.fleet import credentials
from webapp.inventory.models import Container, Image, InventoryCursor, Network, Volume
from webapp.jobs.services import sweep


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("webapp.fleet.broker.grant_host", lambda name: "broker-pw")


def enrol(name: str) -> APIClient:
    token = credentials.issue_enrollment_token(name)
    r = APIClient().post(
        "/api/host/v1/enroll/", {"token": token, "name": name, "facts": {}}, format="json"
    )
    assert r.status_code == 201, r.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Host {r.json()['credential']}")
    return client


CID = "c" * 64
CONTAINER = {
    "engine_id": CID,
    "name": "web",
    "image": "busybox",
    "image_id": "sha256:" + "a" * 64,
    "command": "sleep 1000",
    "state": "running",
    "exit_code": None,
    "health": "",
    "restart_count": 0,
    "ports": [{"container_port": 80, "protocol": "tcp", "host_ip": "127.0.0.1", "host_port": 8080}],
    "mounts": [
        {"type": "volume", "name": "data", "source": "/v/data", "destination": "/data", "rw": True}
    ],
    "networks": [
        {"name": "bridge", "ip_address": "172.19.0.2", "mac_address": "02:42:ac:13:00:02"}
    ],
    "labels": {"app": "web"},
    "created": "2026-12-04T14:27:34.628631Z",
    "started": "2026-12-04T14:27:37.648419Z",
    "finished": None,
}
IMAGE = {
    "engine_id": "sha256:" + "a" * 64,
    "tags": ["busybox:latest"],
    "digests": [],
    "size": 1982429,
    "labels": {},
    "created": "2026-05-07T20:33:45Z",
}
VOLUME = {"engine_id": "data", "name": "data", "driver": "local", "mountpoint": "/v/data"}
NETWORK = {"engine_id": "n" * 64, "name": "bridge", "driver": "bridge", "subnet": "172.19.0.0/16"}


def snapshot(cursor=5, **kinds) -> dict:
    body = {"cursor": cursor, "containers": [CONTAINER], "images": [IMAGE]}
    body |= {"volumes": [VOLUME], "networks": [NETWORK]}
    return body | kinds


def changed(record: dict, kind: str = "container", **fields) -> dict:
    obj = {**record, **fields}
    return {"kind": kind, "engine_id": obj["engine_id"], "object": obj}


def test_a_snapshot_makes_the_hosts_inventory_match_with_new_objects_unmanaged(db):
    host = enrol("h1")
    r = host.post("/api/host/v1/inventory/snapshot/", snapshot(), format="json")
    assert r.status_code == 200, r.content
    assert r.json() == {"cursor": 5, "resync": False}
    c = Container.objects.get()
    assert (c.host.name, c.team, c.state, c.name) == ("h1", None, "running", "web")
    assert c.ports[0]["host_port"] == 8080 and c.labels == {"app": "web"}
    assert Image.objects.get().name == "busybox:latest"
    assert Volume.objects.get().name == "data" and Network.objects.get().subnet == "172.19.0.0/16"

    # removed behind the site's back: the next snapshot takes them away
    r = host.post(
        "/api/host/v1/inventory/snapshot/",
        snapshot(6, containers=[], volumes=[]),
        format="json",
    )
    assert r.status_code == 200
    assert not Container.objects.exists() and not Volume.objects.exists()
    assert Image.objects.count() == 1 and InventoryCursor.objects.get().cursor == 6


def test_an_adopted_object_keeps_its_team_through_reports(db, make_team):
    host = enrol("h1")
    host.post("/api/host/v1/inventory/snapshot/", snapshot(), format="json")
    team = make_team()
    Container.objects.update(team=team)
    host.post(
        "/api/host/v1/inventory/changes/",
        {"after": 5, "cursor": 7, "changes": [changed(CONTAINER, state="exited", exit_code=137)]},
        format="json",
    )
    c = Container.objects.get()
    assert (c.team, c.state, c.exit_code) == (team, "exited", 137)
    assert c.size_rw is None  # measured by snapshots only


def test_sizes_measured_by_a_snapshot_stay_through_changes(db):
    host = enrol("h1")
    measured = {**CONTAINER, "size_rw": 4096, "size_root_fs": 2_000_000}
    host.post("/api/host/v1/inventory/snapshot/", snapshot(containers=[measured]), format="json")
    host.post(
        "/api/host/v1/inventory/changes/",
        {"after": 5, "cursor": 6, "changes": [changed(CONTAINER, state="paused")]},
        format="json",
    )
    c = Container.objects.get()
    assert (c.state, c.size_rw, c.size_root_fs) == ("paused", 4096, 2_000_000)


def test_changes_apply_once_from_the_stored_cursor(db):
    host = enrol("h1")
    assert host.post("/api/host/v1/inventory/cursor/").json() == {"cursor": 0, "resync": True}
    batch = {"after": 0, "cursor": 3, "changes": [changed(CONTAINER), changed(VOLUME, "volume")]}
    r = host.post("/api/host/v1/inventory/changes/", batch, format="json")
    assert r.status_code == 200 and r.json()["cursor"] == 3
    assert Container.objects.count() == 1 and Volume.objects.count() == 1

    # the same batch again (its answer was lost): refused, nothing applied twice
    Container.objects.update(state="paused")
    r = host.post("/api/host/v1/inventory/changes/", batch, format="json")
    assert r.status_code == 409 and r.json()["kind"] == "conflict"
    assert Container.objects.get().state == "paused"
    assert host.post("/api/host/v1/inventory/cursor/").json() == {"cursor": 3, "resync": False}

    gone = {
        "after": 3,
        "cursor": 4,
        "changes": [{"kind": "container", "engine_id": CID, "object": None}],
    }
    assert host.post("/api/host/v1/inventory/changes/", gone, format="json").status_code == 200
    assert not Container.objects.exists()


def test_a_host_cannot_touch_another_hosts_inventory(db):
    one, other = enrol("h1"), enrol("h2")
    one.post("/api/host/v1/inventory/snapshot/", snapshot(), format="json")
    # the other host names the same engine ids: it changes only rows of its own
    other.post(
        "/api/host/v1/inventory/changes/",
        {
            "after": 0,
            "cursor": 1,
            "changes": [
                changed(CONTAINER, state="dead"),
                {"kind": "volume", "engine_id": "data", "object": None},
            ],
        },
        format="json",
    )
    mine = Container.objects.get(host__name="h1")
    assert mine.state == "running" and Volume.objects.filter(host__name="h1").exists()
    assert Container.objects.get(host__name="h2").state == "dead"
    # and an empty snapshot of the other host removes nothing of the first
    other.post(
        "/api/host/v1/inventory/snapshot/",
        snapshot(2, containers=[], images=[], volumes=[], networks=[]),
        format="json",
    )
    assert Container.objects.filter(host__name="h1").count() == 1
    assert not Container.objects.filter(host__name="h2").exists()


def test_without_a_host_credential_nothing_is_reported(db, make_user, api_client):
    for client in (APIClient(), api_client(make_user(staff=True))):
        r = client.post("/api/host/v1/inventory/snapshot/", snapshot(), format="json")
        assert r.status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Host 1.forged")
    assert bad.post("/api/host/v1/inventory/cursor/").status_code == 401
    assert not Container.objects.exists()


def _bad(body: dict, path: list, value) -> dict:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return body


BATCH = {"after": 0, "cursor": 2, "changes": [changed(CONTAINER)]}


@pytest.mark.parametrize(
    "endpoint,body,field",
    [
        ("snapshot", _bad(snapshot(), ["containers", 0, "state"], "unknown"), "containers"),
        ("snapshot", _bad(snapshot(), ["containers", 0, "state"], "sleeping"), "containers"),
        ("snapshot", _bad(snapshot(), ["containers", 0, "name"], KeyError), "containers"),
        ("snapshot", _bad(snapshot(), ["containers", 0, "labels"], ["a=b"]), "containers"),
        ("snapshot", _bad(snapshot(), ["containers", 0, "labels"], {"a": {"b": 1}}), "containers"),
        (
            "snapshot",
            _bad(snapshot(), ["containers", 0, "ports", 0, "container_port"], 70000),
            "containers",
        ),
        ("snapshot", _bad(snapshot(), ["containers", 0, "restart_count"], -1), "containers"),
        ("snapshot", _bad(snapshot(), ["containers", 0, "created"], "yesterday"), "containers"),
        ("snapshot", _bad(snapshot(), ["containers", 0, "exit_code"], 2**40), "containers"),
        ("snapshot", _bad(snapshot(), ["containers", 0, "engine_id"], "x" * 200), "containers"),
        ("snapshot", _bad(snapshot(), ["containers", 0, "mounts"], "data:/data"), "containers"),
        ("snapshot", _bad(snapshot(), ["containers"], [CONTAINER, CONTAINER]), "containers"),
        ("snapshot", _bad(snapshot(), ["images", 0, "size"], -5), "images"),
        ("snapshot", _bad(snapshot(), ["volumes"], KeyError), "volumes"),
        ("snapshot", _bad(snapshot(), ["networks"], {"name": "x"}), "networks"),
        ("snapshot", _bad(snapshot(), ["cursor"], "five"), "cursor"),
        ("snapshot", _bad(snapshot(), ["cursor"], 2**63), "cursor"),
        ("changes", _bad(BATCH, ["cursor"], 0), "cursor"),
        ("changes", _bad(BATCH, ["after"], -1), "after"),
        ("changes", _bad(BATCH, ["changes", 0, "kind"], "pod"), "changes"),
        ("changes", _bad(BATCH, ["changes", 0, "object"], "running"), "changes"),
        ("changes", _bad(BATCH, ["changes", 0, "engine_id"], "other"), "changes"),
        (
            "changes",
            _bad(BATCH, ["changes", 0, "object", "ports"], [{"protocol": "icmp"}]),
            "changes",
        ),
        ("changes", _bad(BATCH, ["changes"], None), "changes"),
        ("changes", _bad(BATCH, ["changes"], [1, 2]), "changes"),
    ],
)
def test_a_bad_report_is_a_400_naming_the_field_and_changes_nothing(db, endpoint, body, field):
    host = enrol("h1")
    r = host.post(f"/api/host/v1/inventory/{endpoint}/", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json(), r.json()
    assert (
        not Container.objects.exists() and not InventoryCursor.objects.filter(cursor__gt=0).exists()
    )


@pytest.mark.parametrize("body", [[], "x", 7, None, {"cursor": None}])
def test_a_body_that_is_not_a_report_is_a_400(db, body):
    host = enrol("h1")
    for endpoint in ("snapshot", "changes"):
        r = host.post(f"/api/host/v1/inventory/{endpoint}/", body, format="json")
        assert r.status_code == 400, (endpoint, body, r.content)


def test_a_host_that_stops_beating_shows_its_containers_unknown(db, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webapp.fleet.models import Host

    host = enrol("h1")
    host.post("/api/host/v1/inventory/snapshot/", snapshot(), format="json")
    Host.objects.filter(name="h1").update(
        last_heartbeat=timezone.now() - timedelta(seconds=settings.WHARF_UNREACHABLE_AFTER + 5)
    )
    sweep()
    assert Container.objects.get().state == "unknown"
    # the host, back, is asked for a snapshot, which brings the truth back
    assert host.post("/api/host/v1/inventory/cursor/").json()["resync"] is True
    host.post("/api/host/v1/inventory/snapshot/", snapshot(9), format="json")
    assert Container.objects.get().state == "running"
    assert host.post("/api/host/v1/inventory/cursor/").json() == {"cursor": 9, "resync": False}
