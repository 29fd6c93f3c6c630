"""The REST contract of the fleet, for real: a container asked for through the API is made by
the host's worker, shown by the inventory under the site's id, acted on and removed; the
scheduler places work when no host is named; bad input is a field error and leaves nothing."""

from __future__ import annotations

import pytest
from e2e_stack import accepted, wait_for


def get(stack, path: str):
    with stack.api() as api:
        return api.get(path)


def test_a_container_through_the_rest_contract(stack, host_rt):
    with stack.api() as api:
        body = accepted(
            api.post(
                "/api/v1/containers/",
                json={
                    "host": stack.host_name,
                    "image": "busybox",
                    "name": "api1",
                    "command": ["sleep", "300"],
                    "labels": {"app": "api"},
                },
            )
        )
    record = body["container"]
    assert record["engine_id"] == f"pending-{body['job']['id']}"
    assert (record["name"], record["host"], record["team"]) == ("api1", stack.host_name, "admins")
    assert stack.ended(body["job"])["state"] == "succeeded"

    made = host_rt.containers.get("api1")
    path = f"/api/v1/containers/{record['id']}/"
    shown = wait_for(
        lambda: (c := get(stack, path).json())["state"] == "running" and c,
        20,
        "the API to show the container running under the site's id",
    )
    assert shown["engine_id"] == made.id and shown["labels"]["app"] == "api"
    same_name = get(stack, f"/api/v1/containers/?host={stack.host_name}&name=api1").json()
    assert [c["id"] for c in same_name["results"]] == [record["id"]], "one record, not two"

    with stack.api() as api:
        stop = accepted(api.post(path + "stop/", json={"timeout": 1}))
    assert stack.ended(stop["job"])["state"] == "succeeded"
    wait_for(lambda: get(stack, path).json()["state"] == "exited", 20, "the API to show it exited")
    assert host_rt.containers.get("api1").status == "exited"

    with stack.api() as api:
        start = accepted(api.post(path + "start/"))
        assert stack.ended(start["job"])["state"] == "succeeded"
        gone = accepted(api.delete(path + "?force=1"))
    assert stack.ended(gone["job"])["state"] == "succeeded"
    wait_for(lambda: get(stack, path).status_code == 404, 20, "the record to go with it")
    assert all(c.name != "api1" for c in host_rt.containers.list(all=True))


def test_with_no_host_named_the_scheduler_places_it(stack, host_rt):
    with stack.api() as api:
        body = accepted(
            api.post(
                "/api/v1/containers/",
                json={"image": "busybox", "name": "placed", "command": ["sleep", "300"]},
            )
        )
    assert body["container"]["host"] == stack.host_name  # the one online host with busybox
    assert stack.ended(body["job"])["state"] == "succeeded"
    assert host_rt.containers.get("placed").running
    host_rt.containers.remove("placed", force=True)


def test_a_create_that_fails_on_the_host_leaves_no_record(stack, host_rt):
    with stack.api() as api:
        body = accepted(
            api.post(
                "/api/v1/containers/",
                json={
                    "host": stack.host_name,
                    "image": "busybox",
                    "name": "broken",
                    "network": "no-such-net",
                },
            )
        )
    job = stack.ended(body["job"])
    assert (job["state"], job["error_kind"]) == ("failed", "not_found"), job
    path = f"/api/v1/containers/{body['container']['id']}/"
    wait_for(lambda: get(stack, path).status_code == 404, 10, "the promised record to go")
    assert all(c.name != "broken" for c in host_rt.containers.list(all=True))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"image": "busybox", "ports": ["70000:80"]}, "ports"),
        ({"image": "busybox", "volumes": ["/etc:/host-etc"]}, "volumes"),
        ({"image": "busybox", "network": "host"}, "network"),
        ({"image": "busybox", "env": {"BAD KEY": "1"}}, "env"),
        ({"image": "bad//ref"}, "image"),
        ({"image": "busybox", "host": "no-such-host"}, "host"),
    ],
)
def test_bad_input_is_a_field_error_and_leaves_nothing(stack, body, field):
    def ids(path: str) -> set[int]:  # by id: an earlier test's removal may still be ending
        return {row["id"] for row in get(stack, path + "?limit=500").json()["results"]}

    containers, jobs = ids("/api/v1/containers/"), ids("/api/v1/jobs/")
    with stack.api() as api:
        r = api.post("/api/v1/containers/", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json(), r.json()
    assert not ids("/api/v1/containers/") - containers
    assert not ids("/api/v1/jobs/") - jobs


def test_volumes_and_networks_through_the_api(stack, host_rt):
    with stack.api() as api:
        vol = accepted(
            api.post("/api/v1/volumes/", json={"host": stack.host_name, "name": "apivol"})
        )
        net = accepted(
            api.post("/api/v1/networks/", json={"host": stack.host_name, "name": "apinet"})
        )
        made = accepted(
            api.post(
                "/api/v1/containers/",
                json={
                    "host": stack.host_name,
                    "image": "busybox",
                    "name": "plugged",
                    "command": ["sleep", "300"],
                    "volumes": ["apivol:/data"],
                },
            )
        )
    for body in (vol, net, made):
        assert stack.ended(body["job"])["state"] == "succeeded"

    def one(kind: str, name: str) -> dict | None:
        found = get(stack, f"/api/v1/{kind}/?host={stack.host_name}&name={name}").json()
        return next((o for o in found["results"] if o["name"] == name), None)

    volume = wait_for(lambda: one("volumes", "apivol"), 20, "the volume in the API")
    network = wait_for(lambda: one("networks", "apinet"), 20, "the network in the API")
    assert volume["team"] == network["team"] == "admins", "what a job made is its team's"
    container_id = made["container"]["id"]
    with stack.api() as api:
        plug = accepted(
            api.post(f"/api/v1/networks/{network['id']}/connect/", json={"container": container_id})
        )
        assert stack.ended(plug["job"])["state"] == "succeeded"
        settings = host_rt.containers.inspect("plugged")["NetworkSettings"]["Networks"]
        assert "apinet" in settings
        unplug = accepted(
            api.post(
                f"/api/v1/networks/{network['id']}/disconnect/", json={"container": container_id}
            )
        )
        assert stack.ended(unplug["job"])["state"] == "succeeded"
        gone = accepted(api.delete(f"/api/v1/containers/{container_id}/?force=1"))
        assert stack.ended(gone["job"])["state"] == "succeeded"
        for kind, obj in (("networks", network), ("volumes", volume)):
            assert (
                stack.ended(accepted(api.delete(f"/api/v1/{kind}/{obj['id']}/"))["job"])["state"]
                == "succeeded"
            )
    assert all(v.name != "apivol" for v in host_rt.volumes.list())
