"""Runtime operations as jobs, for real: the REST API queues them, the host's root worker
runs them through the engine, and the result is checked in that host's own Wharf root.
Bad input is a field error at enqueue and leaves no job behind."""

from __future__ import annotations

import os
import signal

import pytest
from e2e_stack import wait_for


def run_job(stack, kind: str, wait: float = 90, **params) -> dict:
    with stack.api() as api:
        r = api.post(
            "/api/v1/jobs/", json={"kind": kind, "host": stack.host_name, "params": params}
        )
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        ended = wait_for(
            lambda: (
                (j := api.get(f"/api/v1/jobs/{job_id}/").json())["state"]
                not in ("queued", "running")
                and j
            ),
            wait,
            f"job {job_id} ({kind}) to end",
        )
        ended["output"] = [
            line["text"] for line in api.get(f"/api/v1/jobs/{job_id}/output/").json()["results"]
        ]
    return ended


def succeeded(job: dict) -> dict:
    assert job["state"] == "succeeded", (job["error"], job["output"])
    return job


def test_a_container_lives_its_life_through_jobs(stack, host_rt):
    made = succeeded(
        run_job(
            stack,
            "container.create",
            image="busybox",
            name="web1",
            command=["sh", "-c", "echo hello from web1; exec sleep 300"],
            env={"GREETING": "hi"},
            labels={"tier": "web"},
            restart="unless-stopped",
        )
    )
    c = host_rt.containers.get("web1")
    assert c.id == made["result"]["container"] and c.status == "running"
    assert c.spec.labels == {"tier": "web", "wharf.job": str(made["id"])}
    assert "GREETING=hi" in c.config["Env"]

    ran = succeeded(
        run_job(
            stack,
            "container.exec",
            container="web1",
            command=["sh", "-c", "echo $0 out; echo err >&2", "exec"],
        )
    )
    assert "exec out" in ran["output"] and "err" in ran["output"]
    failed = run_job(stack, "container.exec", container="web1", command=["false"])
    assert (failed["state"], failed["error_kind"], failed["result"]) == (
        "failed",
        "exit_code",
        {"exit_code": 1},
    )

    succeeded(run_job(stack, "container.pause", container="web1"))
    assert host_rt.containers.get("web1").status == "paused"
    succeeded(run_job(stack, "container.unpause", container="web1"))
    succeeded(run_job(stack, "container.stop", container="web1", timeout=1))
    stopped = host_rt.containers.get("web1")
    assert stopped.status == "exited" and stopped.manual_stop
    succeeded(run_job(stack, "container.start", container="web1"))
    succeeded(run_job(stack, "container.rename", container="web1", name="web2"))
    assert host_rt.containers.get("web2").running
    succeeded(run_job(stack, "container.kill", container="web2", signal="KILL"))
    wait_for(lambda: host_rt.containers.get("web2").status == "exited", 30, "web2 to die")
    assert host_rt.containers.get("web2").restart_count == 0, "a kill by a person is no restart"
    succeeded(run_job(stack, "container.remove", container="web2", force=True))
    assert all(c.name != "web2" for c in host_rt.containers.list(all=True))


def test_a_failure_on_the_host_ends_the_job_with_the_engines_kind(stack, host_rt):
    missing = run_job(stack, "container.start", container="nosuchone")
    assert (missing["state"], missing["error_kind"]) == ("failed", "not_found")
    assert "nosuchone" in missing["error"]


def test_volumes_networks_and_images_through_jobs(stack, host_rt):
    succeeded(run_job(stack, "volume.create", name="data1", labels={"team": "a"}))
    assert host_rt.volumes.get("data1").labels["team"] == "a"
    succeeded(run_job(stack, "network.create", name="backend", labels={"team": "a"}))
    succeeded(
        run_job(
            stack,
            "container.create",
            image="busybox",
            name="db1",
            command=["sleep", "300"],
            volumes=["data1:/data"],
            network="backend",
        )
    )
    inspect = host_rt.containers.inspect("db1")
    assert [m["Name"] for m in inspect["Mounts"]] == ["data1"]
    assert "backend" in inspect["NetworkSettings"]["Networks"]
    succeeded(run_job(stack, "network.create", name="front"))
    succeeded(run_job(stack, "network.connect", network="front", container="db1", aliases=["db"]))
    assert "front" in host_rt.containers.inspect("db1")["NetworkSettings"]["Networks"]
    succeeded(run_job(stack, "network.disconnect", network="front", container="db1"))
    succeeded(run_job(stack, "container.remove", container="db1", force=True))
    succeeded(run_job(stack, "network.remove", network="front"))
    succeeded(run_job(stack, "network.remove", network="backend"))
    succeeded(run_job(stack, "volume.remove", name="data1"))
    assert all(v.name != "data1" for v in host_rt.volumes.list())

    succeeded(run_job(stack, "image.tag", image="busybox", target="team-a/tools:1"))
    assert host_rt.images.get("team-a/tools:1").id == host_rt.images.get("busybox").id
    removed = succeeded(run_job(stack, "image.remove", image="team-a/tools:1"))
    assert "Untagged: team-a/tools:1" in removed["output"]
    assert not host_rt.images.exists("team-a/tools:1")


@pytest.mark.parametrize(
    ("kind", "params", "where", "message"),
    [
        ("container.create", {"image": "busybox", "ports": ["70000:80"]}, "ports", "1 to 65535"),
        ("container.create", {"image": "Busybox"}, "image", "must be lowercase"),
        ("container.create", {"image": "busybox", "env": {"A B": "x"}}, "env", "variable name"),
        ("container.create", {"image": "busybox", "volumes": ["/etc:/x"]}, "volumes", "host path"),
        ("container.create", {"image": "busybox", "memory": "12q"}, "memory", "512m"),
        ("container.create", {"image": "busybox", "network": "host"}, "network", "fleet admins"),
        ("image.pull", {"reference": "busybox:latеst"}, "reference", "invalid reference format"),
        ("volume.create", {"name": "../x"}, "name", "invalid volume name"),
    ],
)
def test_bad_input_is_a_field_error_at_enqueue_and_no_job(stack, kind, params, where, message):
    with stack.api() as api:
        before = api.get("/api/v1/jobs/", params={"limit": 1}).json()["count"]
        r = api.post(
            "/api/v1/jobs/", json={"kind": kind, "host": stack.host_name, "params": params}
        )
        assert r.status_code == 400, r.text
        body = r.json()
        assert where in body["params"], body
        assert message in body["detail"] and "\n" not in body["detail"], body
        assert api.get("/api/v1/jobs/", params={"limit": 1}).json()["count"] == before


def _create_caught_mid_job(stack, host_rt, name: str) -> tuple[int, list] | None:
    """Queue a create and freeze the worker the moment its container exists; return the job
    and its containers if the job was still running then (else None: it was too quick)."""
    with stack.api() as api:
        r = api.post(
            "/api/v1/jobs/",
            json={
                "kind": "container.create",
                "host": stack.host_name,
                "params": {"image": "busybox", "name": name, "command": ["sleep", "300"]},
            },
        )
        job_id = r.json()["id"]

    def mine() -> list:
        return [
            c
            for c in host_rt.containers.list(all=True)
            if c.spec.labels.get("wharf.job") == str(job_id)
        ]

    wait_for(mine, 60, f"job {job_id}'s container", interval=0.002)
    proc = stack.procs["worker"]
    os.killpg(proc.pid, signal.SIGSTOP)
    with stack.api() as api:
        state = api.get(f"/api/v1/jobs/{job_id}/").json()["state"]
    os.killpg(proc.pid, signal.SIGKILL)  # no report, no goodbye
    proc.wait()
    stack.start_worker("worker", stack.host_name)
    return (job_id, mine) if state == "running" else None


def test_a_redelivered_create_makes_one_container(stack, host_rt):
    """The worker dies right after the container was made, before it reported: the job
    runs again (a create is safe to retry) and finds its container by the job's label."""
    for attempt in range(5):
        caught = _create_caught_mid_job(stack, host_rt, f"once{attempt}")
        if caught:
            break
    else:
        raise AssertionError("five creates all ended before the worker could be stopped")
    job_id, mine = caught
    with stack.api() as api:
        ended = wait_for(
            lambda: (
                (j := api.get(f"/api/v1/jobs/{job_id}/").json())["state"]
                not in ("queued", "running")
                and j
            ),
            90,
            "the create to end",
        )
    assert (ended["state"], ended["attempts"]) == ("succeeded", 2), ended
    assert len(mine()) == 1
    assert ended["result"]["container"] == mine()[0].id
    assert mine()[0].status == "running"
