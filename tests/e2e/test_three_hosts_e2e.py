"""Three hosts on this machine, one site: the REST API runs containers on each, for real.

Three root workers with their own Wharf roots (enrolled like real hosts), one Redis,
the real ASGI server. A team granted those three hosts creates, starts, stops and
removes a container on each through ``/api/v1/containers/``; each step is checked
with ``wharf ps`` in that host's root (and not in the others') and in the API. With
one host cordoned and one full (its memory reserved by a running container), a
request naming no host lands on the third.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass

import httpx
import pytest
from e2e_stack import REPO, accepted, job_ended, release_root, wait_for


@dataclass
class Fleet:
    hosts: list[str]
    token: str
    team: str


def wharf_ps(env: dict) -> dict[str, str]:
    """``wharf ps -a`` in a host's own root: each container's name and state."""
    r = subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", "ps", "-a", "--format", "{{.Names}} {{.State}}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return dict(line.split(" ", 1) for line in r.stdout.splitlines() if line.strip())


@pytest.fixture(scope="module")
def fleet(stack):
    tag = uuid.uuid4().hex[:6]
    names = [f"trio-{tag}-{i}" for i in range(3)]
    try:
        for name in names:
            env = stack.enroll(name)
            subprocess.run(
                [sys.executable, "-m", "runtime.images.starter"],
                cwd=REPO,
                env=env,
                check=True,
                timeout=120,
            )
            stack.start_worker(f"worker-{name}", name)
        for name in names:
            wait_for(
                lambda name=name: f"wharf@{name} ready" in stack.log(f"worker-{name}"),
                90,
                f"{name}'s worker (log: {stack.log(f'worker-{name}')[-1500:]})",
            )
        team = f"trio{tag}"
        out = stack.manage(
            "shell",
            "-c",
            (
                "from django.contrib.auth import get_user_model\n"
                "from webapp.accounts.models import Membership, Team\n"
                "from webapp.accounts.tokens import ApiToken\n"
                "from webapp.fleet.models import Host, HostGrant\n"
                f"u = get_user_model().objects.create_user({team!r}, password='x-' + {tag!r} * 4)\n"
                f"t = Team.objects.create(name={team!r}, slug={team!r})\n"
                "Membership.objects.create(user=u, team=t, role='operator')\n"
                f"for h in Host.objects.filter(name__in={names!r}): "
                "HostGrant.objects.create(team=t, host=h)\n"
                "print('TOKEN', ApiToken.issue(u, 'e2e')[1])"
            ),
        )
        yield Fleet(hosts=names, token=out.split("TOKEN")[-1].strip(), team=team)
    finally:
        for name in names:
            proc = stack.procs.get(f"worker-{name}")
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
            if name in stack.hosts:
                release_root(stack.hosts[name]["WHARF_ROOT"], stack.hosts[name]["WHARF_RUN"])


def api(stack, fleet: Fleet) -> httpx.Client:
    """The team's client: it sees, and the scheduler picks among, the three hosts only."""
    return httpx.Client(
        base_url=stack.web_url, headers={"Authorization": f"Token {fleet.token}"}, timeout=30
    )


def ended(stack, fleet: Fleet, job: dict) -> dict:
    with api(stack, fleet) as c:
        return job_ended(c, job)


def succeeded(stack, fleet: Fleet, job: dict) -> dict:
    j = ended(stack, fleet, job)
    assert j["state"] == "succeeded", (j["error_kind"], j["error"])
    return j


def shown(stack, fleet: Fleet, record_id: int, state: str) -> dict:
    with api(stack, fleet) as c:
        return wait_for(
            lambda: (
                (r := c.get(f"/api/v1/containers/{record_id}/").json()).get("state") == state and r
            ),
            30,
            f"container {record_id} to be shown {state}",
        )


def test_a_container_on_each_host_through_the_rest_api(stack, fleet):
    made = {}
    with api(stack, fleet) as c:
        for i, host in enumerate(fleet.hosts):
            body = accepted(
                c.post(
                    "/api/v1/containers/",
                    json={
                        "host": host,
                        "image": "busybox",
                        "name": f"each{i}",
                        "command": ["sleep", "300"],
                    },
                )
            )
            assert (body["container"]["host"], body["container"]["team"]) == (host, fleet.team)
            made[host] = body
    for i, host in enumerate(fleet.hosts):
        job = succeeded(stack, fleet, made[host]["job"])
        record = shown(stack, fleet, made[host]["container"]["id"], "running")
        assert record["engine_id"] == job["result"]["container"]
        for other in fleet.hosts:  # on its own host, and only there
            ps = wharf_ps(stack.hosts[other])
            assert (ps.get(f"each{i}") == "running") if other == host else f"each{i}" not in ps

    with api(stack, fleet) as c:
        listed = c.get("/api/v1/containers/", params={"state": "running"}).json()["results"]
        assert sorted((x["host"], x["name"]) for x in listed) == [
            (host, f"each{i}") for i, host in enumerate(fleet.hosts)
        ]
        for host in fleet.hosts:
            path = f"/api/v1/containers/{made[host]['container']['id']}/"
            succeeded(stack, fleet, accepted(c.post(path + "stop/", json={"timeout": 1}))["job"])
    for i, host in enumerate(fleet.hosts):
        shown(stack, fleet, made[host]["container"]["id"], "exited")
        assert wharf_ps(stack.hosts[host])[f"each{i}"] == "exited"

    with api(stack, fleet) as c:
        for host in fleet.hosts:
            path = f"/api/v1/containers/{made[host]['container']['id']}/"
            succeeded(stack, fleet, accepted(c.post(path + "start/"))["job"])
    for i, host in enumerate(fleet.hosts):
        shown(stack, fleet, made[host]["container"]["id"], "running")
        assert wharf_ps(stack.hosts[host])[f"each{i}"] == "running"

    with api(stack, fleet) as c:
        for host in fleet.hosts:
            path = f"/api/v1/containers/{made[host]['container']['id']}/"
            succeeded(stack, fleet, accepted(c.delete(path, params={"force": 1}))["job"])
            wait_for(lambda path=path: c.get(path).status_code == 404, 30, f"{path} to go")
    for i, host in enumerate(fleet.hosts):
        assert f"each{i}" not in wharf_ps(stack.hosts[host])


def test_with_one_host_cordoned_and_one_full_the_third_takes_the_work(stack, fleet):
    cordoned, full, free = fleet.hosts
    stack.manage(
        "shell",
        "-c",
        "from webapp.fleet.models import Host; "
        f"Host.objects.filter(name={cordoned!r}).update(state='cordoned')",
    )
    with api(stack, fleet) as c:
        facts = c.get(f"/api/v1/hosts/{full}/").json()["facts"]
        assert facts.get("memory_bytes"), facts
        # what is left of FULL's memory is less than a small request: it is full
        hog = accepted(
            c.post(
                "/api/v1/containers/",
                json={
                    "host": full,
                    "image": "busybox",
                    "name": "hog",
                    "command": ["sleep", "300"],
                    "memory": str(facts["memory_bytes"] - 16 * 1024 * 1024),
                },
            )
        )
        succeeded(stack, fleet, hog["job"])
        shown(stack, fleet, hog["container"]["id"], "running")

        refused = c.post(
            "/api/v1/containers/",
            json={"host": cordoned, "image": "busybox", "command": ["true"]},
        )
        assert refused.status_code == 400 and "host" in refused.json(), refused.text

        placed = accepted(
            c.post(
                "/api/v1/containers/",
                json={
                    "image": "busybox",
                    "name": "placed",
                    "command": ["sleep", "300"],
                    "memory": "64m",
                },
            )
        )
    assert placed["container"]["host"] == free
    succeeded(stack, fleet, placed["job"])
    assert wharf_ps(stack.hosts[free])["placed"] == "running"
    assert "placed" not in wharf_ps(stack.hosts[full])
    assert "placed" not in wharf_ps(stack.hosts[cordoned])
