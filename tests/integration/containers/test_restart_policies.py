"""Restart policies as Docker applies them, enforced by the host agent; containers outlive
the agent and the fork server, and come back after a (simulated) reboot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def wait_for(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def state(wharf, name: str) -> dict:
    info = json.loads(wharf("inspect", name).stdout)[0]
    return {**info["State"], "RestartCount": info["RestartCount"]}


def decided(rt, cid: str) -> bool:
    """The agent has applied the policy to the last exit (no restart pending or started)."""
    row = rt.containers.conn.execute(
        "SELECT status, policy_done FROM containers WHERE id=?", (cid,)
    ).fetchone()
    return row is not None and row[0] == "exited" and row[1] == 1


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kill_and_wait(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: gone(pid), f"process {pid} to die")


def agent_pid(paths) -> int:
    return int((paths.run / "agent.pid").read_text())


def start_agent(paths) -> None:
    from runtime.agent import client

    client.call(paths, "supervise")


def test_on_failure_3_stops_after_three_restarts_with_growing_delays(wharf, wharf_paths, rt):
    cid = wharf(
        "run",
        "-d",
        "--network",
        "none",
        "--restart",
        "on-failure:3",
        "busybox",
        "sh",
        "-c",
        "exit 3",
    ).stdout.strip()
    wait_for(lambda: state(wharf, cid)["RestartCount"] == 3 and decided(rt, cid), "3 restarts")
    s = state(wharf, cid)
    assert (s["Status"], s["ExitCode"], s["Restarting"]) == ("exited", 3, False)
    events = list(rt.events.since(0, filters=[f"container={cid}"]))
    actions = [e.action for e in events if e.action in ("start", "die")]
    assert actions == ["start", "die"] * 4
    # the agent's delays: Docker's 100 ms, doubling
    log = (wharf_paths.run / "agent.log").read_text()
    delays = [
        int(line.split(" in ")[1].split(" ms")[0])
        for line in log.splitlines()
        if f"restarting {cid[:12]} in" in line
    ]
    assert delays == [100, 200, 400]
    starts = [e.time_nano for e in events if e.action == "start"][1:]
    dies = [e.time_nano for e in events if e.action == "die"][:3]
    for die, start, delay in zip(dies, starts, delays, strict=True):
        assert start - die >= delay * 10**6  # never sooner than the delay
    # the policy shows in inspect, and a person's start begins a fresh count
    info = json.loads(wharf("inspect", cid).stdout)[0]
    assert info["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    wharf("start", cid)
    wait_for(lambda: state(wharf, cid)["RestartCount"] == 3 and decided(rt, cid), "3 more")


def test_always_survives_kill_9_of_its_process_and_of_the_agent(wharf, wharf_paths, rt):
    cid = wharf(
        "run", "-d", "--network", "none", "--restart", "always", "busybox", "sleep", "300"
    ).stdout.strip()
    first = state(wharf, cid)["Pid"]
    kill_and_wait(first)
    second = wait_for(
        lambda: (s := state(wharf, cid))["Status"] == "running" and s["Pid"] != first and s["Pid"],
        "the restart after kill -9",
    )
    assert state(wharf, cid)["RestartCount"] == 1
    # now the agent dies too, and the container after it: nobody watches
    kill_and_wait(agent_pid(wharf_paths))
    kill_and_wait(second)
    start_agent(wharf_paths)  # as any later command would; it takes over
    third = wait_for(
        lambda: (
            (s := state(wharf, cid))["Status"] == "running"
            and s["Pid"] not in (first, second)
            and s["Pid"]
        ),
        "the restart by the new agent",
    )
    assert not gone(third) and state(wharf, cid)["RestartCount"] == 2


def test_stop_and_kill_by_a_person_are_not_restarts(wharf, rt):
    cid = wharf(
        "run", "-d", "--network", "none", "--restart", "always", "busybox",
        "sh", "-c", "trap 'exit 9' USR1; while true; do sleep 0.1; done",
    ).stdout.strip()  # fmt: skip
    wharf("stop", "-t", "0", cid)
    wait_for(lambda: decided(rt, cid), "the policy decision")
    s = state(wharf, cid)
    assert (s["Status"], s["RestartCount"]) == ("exited", 0)
    wharf("start", cid)
    wharf("kill", cid)
    wait_for(lambda: decided(rt, cid), "the policy decision")
    assert state(wharf, cid)["Status"] == "exited"
    # a signal that does not mean "stop" is no stop: the exit it causes is a crash
    wharf("start", cid)
    pid = state(wharf, cid)["Pid"]
    wharf("kill", "-s", "USR1", cid)
    wait_for(lambda: state(wharf, cid)["RestartCount"] == 1, "a restart after SIGUSR1")
    assert state(wharf, cid)["Pid"] != pid
    # a person's restart starts the count over, as Docker's
    wharf("restart", "-t", "0", cid)
    s = state(wharf, cid)
    assert (s["Status"], s["RestartCount"]) == ("running", 0)


def test_update_sets_the_restart_policy(wharf, rt):
    cid = wharf("run", "-d", "--network", "none", "busybox", "sleep", "300").stdout.strip()
    assert wharf("update", "--restart", "unless-stopped", cid).stdout.strip() == cid
    info = json.loads(wharf("inspect", cid).stdout)[0]
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    pid = info["State"]["Pid"]
    kill_and_wait(pid)
    wait_for(lambda: state(wharf, cid)["RestartCount"] == 1, "the restart")
    bad = wharf("update", "--restart", "always:3", cid, check=False)
    assert bad.returncode == 1 and "maximum retry count" in bad.stderr
    assert [e.action for e in rt.events.since(0, filters=["event=update"])] == ["update"]


def test_containers_outlive_the_agent_and_the_fork_server(wharf, wharf_paths, rt):
    env = dict(wharf.env, WHARF_FORKSERVER="1")

    def entry(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "runtime.cli.entry", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    cid = entry("run", "-d", "--network", "none", "busybox", "sleep", "300").strip()
    entry("ps")  # through the fork server, started by the first call
    server = wait_for(lambda: (wharf_paths.run / "forkserver.pid").exists(), "the fork server")
    assert server
    pid = state(wharf, cid)["Pid"]
    cursor = rt.events.last_id()
    kill_and_wait(int((wharf_paths.run / "forkserver.pid").read_text()))
    kill_and_wait(agent_pid(wharf_paths))
    assert not gone(pid)  # the shim holds it
    assert entry("ps", "-q").split() == [cid[:12]]
    start_agent(wharf_paths)
    kill_and_wait(pid)  # the new agent took over its watching: it records the exit itself
    for event in rt.events.follow(cursor, filters=[f"container={cid}", "event=die"]):
        assert event.attributes["exitCode"] == "137"
        break


def test_after_a_reboot_always_and_unless_stopped_come_back(wharf, wharf_paths, rt):
    def run(name: str, policy: str) -> str:
        return wharf(
            "run", "-d", "--name", name, "--network", "none", "--restart", policy,
            "busybox", "sleep", "300",
        ).stdout.strip()  # fmt: skip

    ids = {
        "always": run("always", "always"),
        "unless": run("unless", "unless-stopped"),
        "stopped": run("stopped", "unless-stopped"),
        "plain": run("plain", "no"),
    }
    wharf("stop", "-t", "0", "stopped")
    stopped_code = state(wharf, "stopped")["ExitCode"]
    pids = {name: state(wharf, name)["Pid"] for name in ("always", "unless", "plain")}
    shims = {
        name: int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        for name, pid in pids.items()
    }
    # the power goes: the agent, every shim, every container
    kill_and_wait(agent_pid(wharf_paths))
    for pid in shims.values():
        os.kill(pid, signal.SIGKILL)
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    for pid in [*shims.values(), *pids.values()]:
        wait_for(lambda pid=pid: gone(pid), "the processes to die")
    start_agent(wharf_paths)  # the boot: the agent comes up first
    for name in ("always", "unless"):
        wait_for(
            lambda name=name: (
                (s := state(wharf, name))["Status"] == "running" and s["Pid"] != pids[name]
            ),
            f"{name} to come back",
        )
    wait_for(lambda: decided(rt, ids["plain"]), "the plain container's exit")
    plain = state(wharf, "plain")
    assert (plain["Status"], plain["ExitCode"]) == ("exited", 255) and "shim" in plain["Error"]
    stopped = state(wharf, "stopped")
    assert (stopped["Status"], stopped["ExitCode"]) == ("exited", stopped_code)
    assert {e.actor_id for e in rt.events.since(0, filters=["event=die"])} == set(ids.values())
