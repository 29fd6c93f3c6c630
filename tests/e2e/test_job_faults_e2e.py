"""Faults are normal: a killed worker, a job past its limits, Redis restarted, a cancel mid-run.

Each test uses a host of its own (enrolled like a real one, its own worker and
Wharf root), so killing or stopping its worker disturbs no other test. Jobs of
kind "test.sleep" (offered only with WHARF_TEST_JOBS=1) sleep and print; the
stack gives them a 3 s soft limit and a 3 s grace before the hard one.
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from pathlib import Path

import pytest
from e2e_stack import wait_for


def _host(stack) -> str:
    name = f"faults-{uuid.uuid4().hex[:6]}"
    stack.enroll(name)
    stack.start_worker(f"worker-{name}", name)
    wait_for(
        lambda: f"wharf@{name} ready" in stack.log(f"worker-{name}") or _online(stack, name),
        60,
        f"{name}'s worker",
    )
    return name


def _online(stack, name: str) -> bool:
    with stack.api() as api:
        r = api.get(f"/api/v1/hosts/{name}/")
        return r.status_code == 200 and r.json()["state"] == "online"


def _job(stack, host: str, kind: str = "test.sleep", **params) -> int:
    with stack.api() as api:
        r = api.post("/api/v1/jobs/", json={"kind": kind, "host": host, "params": params})
        assert r.status_code == 201, r.text
        return r.json()["id"]


def _get(stack, job_id: int) -> dict:
    with stack.api() as api:
        return api.get(f"/api/v1/jobs/{job_id}/").json()


def _ended(stack, job_id: int, timeout: float = 60) -> dict:
    return wait_for(
        lambda: (j := _get(stack, job_id))["state"] not in ("queued", "running") and j,
        timeout,
        f"job {job_id} to end",
    )


def _output(stack, job_id: int) -> list[dict]:
    """Every stored line of a job, following the output's pages."""
    lines, url = [], f"/api/v1/jobs/{job_id}/output/"
    with stack.api() as api:
        while url:
            page = api.get(url).json()
            if isinstance(page, list):  # an unpaginated answer
                return page
            lines += page["results"]
            url = page["next"]
    return lines


def _kill_worker(stack, proc_name: str) -> None:
    proc = stack.procs[proc_name]
    os.killpg(proc.pid, signal.SIGKILL)  # the main process and its pool: no goodbye
    proc.wait()


def test_the_worker_holds_no_site_secret(stack):
    pid = stack.procs["worker"].pid
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    keys = {item.split(b"=", 1)[0].decode() for item in environ if item}
    assert not keys & {
        "DATABASE_URL",
        "SECRET_KEY",
        "SECRET_KEY_FILE",
        "REDIS_URL",
        "DJANGO_SETTINGS_MODULE",
        "WHARF_SIGNING_KEY_FILE",
    }
    config = json.loads(Path(stack.hosts[stack.host_name]["WHARF_HOST_CONFIG"]).read_text())
    assert set(config) == {
        "site_url",
        "host_name",
        "credential",
        "broker_url",
        "key_prefix",
        "queue",
        "public_key",
        "heartbeat_seconds",
    }
    assert config["broker_url"].startswith(f"redis://host.{stack.host_name}:")
    assert "PRIVATE" not in config["public_key"]
    # and the job still runs: a host check through the spine
    job = _job(stack, stack.host_name, "host.check")
    assert _ended(stack, job)["state"] == "succeeded"


def test_a_hosts_broker_user_reaches_only_its_own_keys(stack):
    import redis

    other = _host(stack)
    mine = json.loads(Path(stack.hosts[stack.host_name]["WHARF_HOST_CONFIG"]).read_text())
    client = redis.Redis.from_url(mine["broker_url"])
    assert client.ping()
    client.set(f"{mine['key_prefix']}probe", b"x")
    refused = [
        ("LPUSH", f"wharf:host.{other}:host.{other}", "forged"),  # another host's queue
        ("LRANGE", f"wharf:host.{other}:host.{other}", "0", "-1"),
        ("ZADD", "asgi:group:job-1", "1", "x"),  # the site's channel layer
        ("PUBLISH", "asgi:group:job-1", "x"),
        ("KEYS", "*"),
        ("ACL", "LIST"),
        ("CONFIG", "GET", "*"),
        ("CLIENT", "KILL", "USER", "wharf-site"),
        ("FLUSHALL",),
    ]
    for command in refused:
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.execute_command(*command)


def test_remote_control_broadcasts_are_not_obeyed(stack):
    """Even the site's own broker user cannot shut a worker down through the broker."""
    from celery import Celery

    name = _host(stack)
    app = Celery(broker=stack.env["REDIS_URL"])
    app.conf.broker_transport_options = {"global_keyprefix": f"wharf:host.{name}:"}
    app.control.broadcast("shutdown")
    app.control.broadcast("shutdown", destination=[f"wharf@{name}"])
    job = _job(stack, name, "host.check")
    assert _ended(stack, job)["state"] == "succeeded"
    assert stack.procs[f"worker-{name}"].poll() is None


def test_kill_9_of_the_worker_mid_job_fails_the_job_with_the_reason(stack):
    name = _host(stack)
    # a limit that cannot end the job first, however slowly the new worker starts
    job = _job(stack, name, seconds=60, time_limit=120)
    wait_for(lambda: _get(stack, job)["state"] == "running", 30, "the job to start")
    _kill_worker(stack, f"worker-{name}")
    stack.start_worker(f"worker-{name}-again", name)
    ended = _ended(stack, job, timeout=30)  # within a heartbeat of the new worker (2 s here)
    assert (ended["state"], ended["error_kind"]) == ("failed", "worker_lost")
    assert "lost" in ended["error"]
    again = _job(stack, name, seconds=0)
    assert _ended(stack, again)["state"] == "succeeded"


def test_a_killed_worker_that_never_comes_back_fails_its_job_as_unreachable(stack):
    name = _host(stack)
    job = _job(stack, name, seconds=60)
    wait_for(lambda: _get(stack, job)["state"] == "running", 30, "the job to start")
    _kill_worker(stack, f"worker-{name}")
    ended = _ended(stack, job, timeout=40)  # unreachable after 6 s here, swept every 2 s
    assert (ended["state"], ended["error_kind"]) == ("failed", "host_unreachable")


def test_the_soft_time_limit_stops_a_job_with_the_reason(stack):
    job = _job(stack, stack.host_name, seconds=30)
    ended = _ended(stack, job)
    assert (ended["state"], ended["error_kind"]) == ("failed", "time_limit")


def test_a_job_ignoring_its_soft_limit_meets_the_hard_one(stack):
    name = _host(stack)
    job = _job(stack, name, seconds=60, ignore_soft_limit=True)
    ended = _ended(stack, job, timeout=40)
    assert (ended["state"], ended["error_kind"]) == ("failed", "time_limit")
    texts = [line["text"] for line in _output(stack, job)]
    assert "ignoring the soft time limit" in texts and "woke up" not in texts
    again = _job(stack, name, seconds=0)  # the pool replaced its killed process
    assert _ended(stack, again)["state"] == "succeeded"


def test_cancel_stops_a_running_job_and_refuses_an_ended_one(stack):
    job = _job(stack, stack.host_name, seconds=30, time_limit=60)  # only the cancel ends it
    wait_for(lambda: _get(stack, job)["state"] == "running", 30, "the job to start")
    with stack.api() as api:
        r = api.post(f"/api/v1/jobs/{job}/cancel/")
        assert r.status_code == 202 and r.json()["cancel_requested"] is True
    ended = _ended(stack, job)
    assert (ended["state"], ended["error_kind"]) == ("cancelled", "cancelled")
    with stack.api() as api:
        assert api.post(f"/api/v1/jobs/{job}/cancel/").status_code == 409


def test_a_queued_job_expires_when_its_host_never_takes_it(stack):
    name = _host(stack)
    _kill_worker(stack, f"worker-{name}")
    job = _job(stack, name, seconds=0)
    stack.manage(
        "shell",
        "-c",
        "from datetime import timedelta; from django.utils import timezone; "
        "from webapp.jobs.models import Job; "
        f"Job.objects.filter(pk={job}).update(deadline=timezone.now() - timedelta(seconds=1))",
    )
    ended = _ended(stack, job, timeout=30)
    assert (ended["state"], ended["error_kind"]) == ("expired", "expired")


def test_redis_restarted_with_jobs_queued_loses_none_and_runs_none_twice(stack):
    name = _host(stack)
    _kill_worker(stack, f"worker-{name}")
    jobs = [_job(stack, name, seconds=0, lines=3) for _ in range(5)]
    wait_for(
        lambda: all(stack.redis().llen(f"wharf:host.{name}:host.{name}") == 5 for _ in [0]),
        30,
        "the five messages to be queued",
    )
    redis_proc = stack.procs["redis"]
    redis_proc.send_signal(signal.SIGKILL)  # no chance to save anything more
    redis_proc.wait()
    stack.start_redis()
    stack.start_worker(f"worker-{name}-after", name)
    for job in jobs:
        ended = _ended(stack, job)
        assert ended["state"] == "succeeded" and ended["attempts"] == 1, (
            ended["error_kind"],
            ended["error"],
        )
        seqs = [line["seq"] for line in _output(stack, job)]
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 5
