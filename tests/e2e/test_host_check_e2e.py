"""One job down the whole spine: REST → database → the host's queue → root worker →
runtime → lines over a real websocket → stored output read back."""

from __future__ import annotations

import json

from e2e_stack import wait_for
from websockets.sync.client import connect


def _create_check(stack) -> int:
    with stack.api() as api:
        r = api.post("/api/v1/jobs/", json={"kind": "host.check", "host": stack.host_name})
        assert r.status_code == 201, r.text
        return r.json()["id"]


def test_a_host_check_streams_its_lines_live_and_stores_them(stack):
    job_id = _create_check(stack)
    url = stack.web_url.replace("http", "ws") + f"/ws/jobs/{job_id}/"
    lines, states = [], []
    with connect(
        url,
        origin=stack.web_url,
        additional_headers={"Authorization": f"Token {stack.token}"},
        open_timeout=10,
    ) as ws:
        while not states or states[-1] not in ("succeeded", "failed"):
            msg = json.loads(ws.recv(timeout=60))
            if msg["type"] == "line":
                lines.append(msg)
            else:
                states.append(msg["state"])
    assert states[-1] == "succeeded", [m["text"] for m in lines]
    texts = [m["text"] for m in lines]
    for check in (
        "overlay mount works",
        "namespaces can be created",
        "cgroup controllers present",
        "OCI runtime answers",
    ):
        assert any(t.startswith("[ok] " + check) for t in texts), texts
    seqs = [m["seq"] for m in lines]
    assert seqs == sorted(set(seqs)), "lines arrive once each, in order"

    with stack.api() as api:
        job = api.get(f"/api/v1/jobs/{job_id}/").json()
        stored = api.get(f"/api/v1/jobs/{job_id}/output/").json()
    assert job["state"] == "succeeded" and job["result"]["failed"] == 0
    assert [s["text"] for s in stored] == texts


def test_the_host_registered_with_true_facts(stack):
    import os
    import platform

    with stack.api() as api:
        host = api.get(f"/api/v1/hosts/{stack.host_name}/").json()
    facts = host["facts"]
    assert facts["kernel"] == platform.release()
    assert facts["cpus"] == os.cpu_count()
    assert facts["cgroup_mode"] in ("v1", "hybrid", "v2")
    assert facts["oci_runtime"] in ("runc", "crun")
    assert {r["name"] for r in facts["oci_runtimes"]} >= {facts["oci_runtime"]}


def test_the_worker_refuses_a_pickled_message(stack):
    """A pickle on the host's queue is rejected by the root worker, never run."""
    import pickle

    from kombu import Connection, Exchange, Producer

    with stack.api() as api:
        # a job that exists but was never sent: only the pickle could start it
        r = api.post("/api/v1/jobs/", json={"kind": "host.check", "host": stack.host_name})
        job_id = r.json()["id"]
        wait_for(
            lambda: api.get(f"/api/v1/jobs/{job_id}/").json()["state"] == "succeeded",
            60,
            "the JSON-sent job to finish",
        )
        r = api.post("/api/v1/jobs/", json={"kind": "host.check", "host": "no-such-host"})
        assert r.status_code == 400

    # Build a job row directly so nothing JSON is ever queued for it.
    out = stack.manage(
        "shell",
        "-c",
        (
            "from webapp.jobs.models import Job; from webapp.fleet.models import Host; "
            "from webapp.accounts.models import Team; "
            f"j = Job.objects.create(kind='host.check', host=Host.objects.get(name='{stack.host_name}'), "
            "team=Team.objects.get(slug='admins')); print('JOB', j.pk)"
        ),
    )
    pickled_job = int(out.split("JOB")[-1])
    body = pickle.dumps(
        ((pickled_job,), {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})
    )
    with Connection(stack.env["REDIS_URL"]) as conn:
        Producer(conn).publish(
            body,
            routing_key=f"host.{stack.host_name}",
            exchange=Exchange(f"host.{stack.host_name}"),
            serializer=None,
            content_type="application/x-python-serialize",
            content_encoding="binary",
            headers={
                "lang": "py",
                "task": "wharf.run_job",
                "id": "pickled-1",
                "argsrepr": "",
                "kwargsrepr": "",
            },
        )
    wait_for(
        lambda: (
            "pickled-1" in stack.log("worker")
            or "ContentDisallowed" in stack.log("worker")
            or "Refusing to deserialize" in stack.log("worker")
        ),
        30,
        "the worker to see the pickled message",
    )
    with stack.api() as api:
        assert api.get(f"/api/v1/jobs/{pickled_job}/").json()["state"] == "queued"
    assert "Refusing to deserialize" in stack.log("worker")
