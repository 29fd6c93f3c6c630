"""Health checks run by the host agent: Docker's states, State.Health.Log, ps and events."""

from __future__ import annotations

import json
import time


def wait_for(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def health(wharf, cid: str) -> dict | None:
    return json.loads(wharf("inspect", cid).stdout)[0]["State"].get("Health")


def statuses(rt, cid: str) -> list[str]:
    return [
        e.action.split(": ", 1)[1]
        for e in rt.events.since(0, filters=[f"container={cid}", "event=health_status"])
    ]


def test_healthy_unhealthy_healthy_with_events(wharf, rt):
    cid = wharf(
        "run", "-d", "--network", "none",
        "--health-cmd", "cat /tmp/ok", "--health-interval", "100ms", "--health-retries", "2",
        "busybox", "sh", "-c", "echo fine > /tmp/ok; sleep 300",
    ).stdout.strip()  # fmt: skip
    wait_for(lambda: statuses(rt, cid) == ["healthy"], "healthy")
    assert wharf("ps", "--format", "{{.Status}}").stdout.strip().endswith("(healthy)")
    wharf("exec", cid, "rm", "/tmp/ok")
    wait_for(lambda: statuses(rt, cid) == ["healthy", "unhealthy"], "unhealthy")
    h = health(wharf, cid)
    assert h["Status"] == "unhealthy" and h["FailingStreak"] >= 2
    assert h["Log"][-1]["ExitCode"] == 1 and "No such file" in h["Log"][-1]["Output"]
    assert wharf("ps", "--format", "{{.Status}}").stdout.strip().endswith("(unhealthy)")
    wharf("exec", cid, "touch", "/tmp/ok")
    wait_for(lambda: statuses(rt, cid) == ["healthy", "unhealthy", "healthy"], "healthy again")
    h = health(wharf, cid)
    assert h["FailingStreak"] == 0 and len(h["Log"]) <= 5
    assert {"Start", "End", "ExitCode", "Output"} <= set(h["Log"][-1])


def test_failures_in_the_start_period_do_not_count(wharf):
    slow = wharf(
        "run", "-d", "--network", "none", "--health-cmd", "false",
        "--health-interval", "100ms", "--health-retries", "1", "--health-start-period", "5m",
        "busybox", "sleep", "300",
    ).stdout.strip()  # fmt: skip
    h = wait_for(lambda: (h := health(wharf, slow)) and len(h["Log"]) >= 3 and h, "3 checks")
    assert (h["Status"], h["FailingStreak"]) == ("starting", 0)
    assert (
        wharf("ps", "--format", "{{.Status}}", "-f", f"id={slow}")
        .stdout.strip()
        .endswith("(health: starting)")
    )
    short = wharf(
        "run", "-d", "--network", "none", "--health-cmd", "false",
        "--health-interval", "100ms", "--health-retries", "1", "--health-start-period", "300ms",
        "busybox", "sleep", "300",
    ).stdout.strip()  # fmt: skip
    wait_for(lambda: health(wharf, short)["Status"] == "unhealthy", "unhealthy after the period")


def test_the_image_check_runs_and_none_disables_it(wharf, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        "FROM busybox\nHEALTHCHECK --interval=100ms --retries=1 CMD true\n"
    )
    wharf("build", "-q", "--network", "none", "-t", "checked:1", str(ctx))
    (ctx / "Dockerfile").write_text("FROM checked:1\nHEALTHCHECK NONE\n")
    wharf("build", "-q", "--network", "none", "-t", "unchecked:1", str(ctx))
    checked = wharf("run", "-d", "--network", "none", "checked:1", "sleep", "300").stdout.strip()
    wait_for(lambda: health(wharf, checked)["Status"] == "healthy", "the image's check")
    off = wharf(
        "run", "-d", "--network", "none", "--health-cmd", "none", "checked:1", "sleep", "300"
    ).stdout.strip()
    image_off = wharf("run", "-d", "--network", "none", "unchecked:1", "sleep", "300").stdout
    time.sleep(0.5)  # several intervals of the image's check: none may run
    for cid in (off, image_off.strip()):
        assert health(wharf, cid) is None
        status = wharf("ps", "--format", "{{.Status}}", "-f", f"id={cid}").stdout.strip()
        assert status.startswith("Up") and "health" not in status
