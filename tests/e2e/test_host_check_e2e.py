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
        stored = api.get(f"/api/v1/jobs/{job_id}/output/").json()["results"]
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


def _queued_job(stack) -> int:
    """A job row that exists but was never sent: only a message someone pushes could start it."""
    out = stack.manage(
        "shell",
        "-c",
        (
            "from webapp.jobs.models import Job; from webapp.fleet.models import Host; "
            "from webapp.accounts.models import Team; "
            f"j = Job.objects.create(kind='host.check', host=Host.objects.get(name='{stack.host_name}'), "
            "team=Team.objects.get(slug='admins'), message_id='forged-1', enqueued='2000-01-01T00:00Z'); "
            "print('JOB', j.pk)"
        ),
    )
    return int(out.split("JOB")[-1])


def _push(stack, body: bytes, content_type: str, encoding: str, task_id: str) -> None:
    """Put a raw message on the host's queue as someone holding the site's broker password."""
    from kombu import Connection, Exchange, Producer

    queue = f"host.{stack.host_name}"
    with Connection(
        stack.env["REDIS_URL"], transport_options={"global_keyprefix": f"wharf:{queue}:"}
    ) as conn:
        Producer(conn).publish(
            body,
            routing_key=queue,
            exchange=Exchange(queue),
            serializer=None,
            content_type=content_type,
            content_encoding=encoding,
            headers={
                "lang": "py",
                "task": "wharf.run_job",
                "id": task_id,
                "argsrepr": "",
                "kwargsrepr": "",
            },
        )


def _job_state(stack, job_id: int) -> str:
    with stack.api() as api:
        return api.get(f"/api/v1/jobs/{job_id}/").json()["state"]


def test_the_worker_refuses_a_pickled_message(stack):
    """A pickle on the host's queue is rejected by the root worker, never run."""
    import pickle

    job = _queued_job(stack)
    body = pickle.dumps(
        ((job,), {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})
    )
    _push(stack, body, "application/x-python-serialize", "binary", "pickled-1")
    wait_for(
        lambda: "Refusing to deserialize" in stack.log("worker"),
        30,
        "the worker to see the pickled message",
    )
    assert _job_state(stack, job) == "queued"


def test_the_worker_refuses_a_message_the_site_did_not_sign(stack):
    """A JSON job message forged without the site's key is refused and recorded, never run."""
    job = _queued_job(stack)
    forged = {"v": 1, "job": job, "host": stack.host_name, "message": "forged-1", "sig": "AAAA"}
    body = json.dumps([[forged], {}, {"callbacks": None, "errbacks": None, "chain": None}])
    _push(stack, body.encode(), "application/json", "utf-8", "forged-1")

    def recorded() -> bool:
        out = stack.manage(
            "shell",
            "-c",
            "from webapp.fleet.models import HostEvent; "
            "print('N', HostEvent.objects.filter(kind='message_refused').count())",
        )
        return int(out.split("N")[-1]) > 0

    wait_for(recorded, 30, "the refused message to be recorded")
    assert _job_state(stack, job) == "queued"
    assert "refusing a job message" in stack.log("worker")
