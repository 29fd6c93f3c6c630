"""The worker's inventory records, read from a real host root, are what the host API accepts.

``worker.inventory`` turns the runtime's objects into the host API's shapes;
here they are read from real containers, volumes, networks and images and
checked with the site's own serializers (``webapp.inventory.reports``), and
``changes`` is checked to say "gone" for what a batch of events removed.
"""

from __future__ import annotations

from webapp.inventory.reports import ChangesIn, SnapshotIn
from worker import inventory


def _valid(serializer_class, data) -> dict:
    s = serializer_class(data=data)
    assert s.is_valid(), s.errors
    return s.validated_data


def test_a_snapshot_of_a_real_host_is_a_valid_report(rt, wharf):
    wharf("network", "create", "inv-net")
    wharf(
        "run", "-d", "--name", "inv-web", "-l", "app=web", "-p", "127.0.0.1::80",
        "-v", "inv-data:/data", "--network", "inv-net", "busybox", "sleep", "1000",
    )  # fmt: skip
    wharf("run", "--name", "inv-done", "busybox", "sh", "-c", "exit 3", check=False)
    wharf(
        "run",
        "--rm",
        "-v",
        "inv-data:/data",
        "busybox",
        "sh",
        "-c",
        "head -c 5000 /dev/zero > /data/blob",
    )
    snap = inventory.snapshot(rt)
    data = _valid(SnapshotIn, snap)
    assert snap["cursor"] == rt.events.last_id()
    by_name = {c["name"]: c for c in data["containers"]}
    web, done = by_name["inv-web"], by_name["inv-done"]
    assert (web["state"], web["labels"], web["command"]) == (
        "running",
        {"app": "web"},
        "sleep 1000",
    )
    assert web["ports"][0]["container_port"] == 80 and web["ports"][0]["host_port"]
    assert web["mounts"][0]["name"] == "inv-data" and web["mounts"][0]["destination"] == "/data"
    assert [n["name"] for n in web["networks"]] == ["inv-net"] and web["networks"][0]["ip_address"]
    assert web["started"] is not None and web["exit_code"] is None
    assert web["size_root_fs"] >= web["size_rw"] >= 0
    assert (done["state"], done["exit_code"]) == ("exited", 3) and done["finished"] is not None
    assert "busybox:latest" in data["images"][0]["tags"]
    assert {"inv-data"} == {v["name"] for v in data["volumes"]}
    assert data["volumes"][0]["size"] >= 5000, "the bytes of its files, as system df -v says"
    assert {"bridge", "host", "none", "inv-net"} == {n["name"] for n in data["networks"]}


def test_changes_say_what_a_batch_of_events_left(rt, wharf):
    after = rt.events.last_id()
    wharf("volume", "create", "inv-gone")
    wharf("run", "-d", "--name", "inv-c", "busybox", "sleep", "1000")
    wharf("kill", "inv-c")
    wharf("wait", "inv-c")  # the kill sends the signal; the exit is recorded after it
    wharf("volume", "rm", "inv-gone")
    events = rt.events.since(after)
    out = inventory.changes(rt, events)
    body = _valid(ChangesIn, {"after": after, "cursor": events[-1].id, "changes": out})
    found = {(c["kind"], c["engine_id"]): c["object"] for c in body["changes"]}
    assert found[("volume", "inv-gone")] is None
    container = next(v for (k, _), v in found.items() if k == "container")
    assert (container["name"], container["state"], container["exit_code"]) == (
        "inv-c",
        "exited",
        137,
    )
    # each object once, however many events it had
    assert len(body["changes"]) == len(found)
