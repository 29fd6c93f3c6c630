"""The site's inventory follows a real host: CLI-made containers appear unmanaged, exits show, adopt.

A container made with the ``wharf`` CLI in a host's own Wharf root (behind
the site's back) appears in the REST API as unmanaged, with its labels and
ports; killed, it is shown exited without anyone asking, and a subscribed
websocket is told; an admin adopts it into a team; removed with the CLI, it
goes. A host whose worker is killed shows its containers as unknown, never
running, until its worker is back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid

from e2e_stack import REPO, release_root, wait_for
from websockets.sync.client import connect


def wharf(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the ``wharf`` CLI in a host's own root, as a person on that host would."""
    r = subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and r.returncode != 0:
        raise AssertionError(f"wharf {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r


def containers(stack, **query) -> list[dict]:
    with stack.api() as api:
        r = api.get("/api/v1/containers/", params=query)
        assert r.status_code == 200, r.text
        return r.json()["results"]


def one(stack, host: str, name: str) -> dict | None:
    found = containers(stack, host=host, name=name)
    return next((c for c in found if c["name"] == name), None)


def test_a_cli_made_container_appears_unmanaged_exits_and_is_adopted(stack, host_env):
    host, name = stack.host_name, f"inv-{uuid.uuid4().hex[:6]}"
    wharf(host_env, "run", "-d", "--name", name, "-l", "made.by=cli", "busybox", "sleep", "1000")
    seen = wait_for(
        lambda: (c := one(stack, host, name)) and c["state"] == "running" and c,
        30,
        f"{name} to appear running (worker log: {stack.log('worker')[-1500:]})",
    )
    assert seen["team"] is None and seen["labels"] == {"made.by": "cli"}
    assert seen["command"] == "sleep 1000" and seen["image"] == "busybox"
    assert len(seen["engine_id"]) == 64
    with stack.api() as api:
        images = api.get("/api/v1/images/", params={"host": host, "name": "busybox"}).json()
        assert [i["team"] for i in images["results"]] == [None]
        nets = api.get("/api/v1/networks/", params={"host": host}).json()["results"]
        assert {"bridge", "host", "none"} <= {n["name"] for n in nets}

    url = stack.web_url.replace("http://", "ws://") + f"/ws/inventory/?host={host}"
    with connect(url, additional_headers={"Authorization": f"Token {stack.token}"}) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
        wharf(host_env, "kill", name)  # behind the site's back

        def told_exited():
            while True:
                msg = json.loads(ws.recv(timeout=30))
                obj = msg.get("object", {})
                if obj.get("name") == name and obj.get("state") == "exited":
                    return obj

        told = told_exited()
    assert told["exit_code"] == 137 and told["host"] == host
    assert one(stack, host, name)["state"] == "exited"

    with stack.api() as api:
        r = api.post(f"/api/v1/containers/{seen['id']}/adopt/", json={"team": "admins"})
        assert r.status_code == 200, r.text
        assert r.json()["team"] == "admins"
    assert [c["name"] for c in containers(stack, team="admins", name=name)] == [name]

    # the site loses track while the host is quiet: the host soon sends the truth again
    # (the host may answer within a second, so the "unknown" is read in the same process)
    said = stack.manage(
        "shell",
        "-c",
        "from webapp.inventory.models import Container;"
        "from webapp.inventory.services import mark_unknown;"
        f"mark_unknown({host!r});"
        f"print(Container.objects.get(host__name={host!r}, name={name!r}).state)",
    )
    assert said.splitlines()[-1] == "unknown", said
    wait_for(lambda: one(stack, host, name)["state"] == "exited", 60, f"{name} known again")

    wharf(host_env, "rm", name)
    wait_for(lambda: one(stack, host, name) is None, 30, f"{name} to go from the API")


def test_a_hosts_containers_are_unknown_while_its_worker_is_away(stack):
    host = stack.host_name + "-inv"
    env = stack.enroll(host)
    subprocess.run(
        [sys.executable, "-m", "runtime.images.starter"], cwd=REPO, env=env, check=True, timeout=120
    )
    try:
        wharf(env, "run", "-d", "--name", "steady", "busybox", "sleep", "1000")
        stack.start_worker("worker-inv", host)
        wait_for(
            lambda: (c := one(stack, host, "steady")) and c["state"] == "running",
            60,
            f"steady to appear (log: {stack.log('worker-inv')[-1500:]})",
        )
        proc = stack.procs["worker-inv"]
        os.killpg(proc.pid, signal.SIGKILL)  # no goodbye: the beats just stop
        proc.wait()
        wait_for(
            lambda: one(stack, host, "steady")["state"] == "unknown",
            30,
            "the silent host's container to be shown unknown",
        )
        assert containers(stack, host=host, state="running") == []

        # made while nobody watched; the worker, back, reconciles
        wharf(env, "run", "-d", "--name", "later", "busybox", "sleep", "1000")
        stack.start_worker("worker-inv2", host)
        wait_for(
            lambda: (
                sorted(c["name"] for c in containers(stack, host=host, state="running"))
                == ["later", "steady"]
            ),
            60,
            f"the host's containers to be running again (log: {stack.log('worker-inv2')[-1500:]})",
        )
    finally:
        for proc_name in ("worker-inv", "worker-inv2"):
            proc = stack.procs.get(proc_name)
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
        release_root(env["WHARF_ROOT"], env["WHARF_RUN"])
