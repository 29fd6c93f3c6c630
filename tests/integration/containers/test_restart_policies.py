"""Restart policies as Docker applies them, enforced by the host agent; containers outlive
the agent and the fork server, and come back after a (simulated) reboot."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
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

    cid = entry(
        "run", "-d", "--network", "none", "--restart", "on-failure:1", "busybox", "sleep", "300"
    ).strip()  # fmt: skip
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
    # and applies its restart policy
    wait_for(lambda: state(wharf, cid)["RestartCount"] == 1, "the restart by the new agent")
    assert state(wharf, cid)["Status"] == "running"


def power_cut(paths, pids: list[int]) -> None:
    """What a host's restart does to Wharf: every process dies at once (kill -9 of the
    agent, every shim and every container), and the volatile state goes with the
    kernel: the run directory (a tmpfs, /run/wharf) with its mounts, the runtime's
    state and the namespaces, and the root's bridges, veths and nftables table."""
    from runtime.agent.server import release_orphaned_host_objects

    shims = [
        int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) for pid in pids
    ]
    victims = [agent_pid(paths), *shims, *pids]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    for pid in victims:
        wait_for(lambda pid=pid: gone(pid), "the processes to die")
    run = str(paths.run)
    mounts = [
        line.split()[4]
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if line.split()[4].startswith(run + "/")
    ]
    for target in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], check=True)
    release_orphaned_host_objects(paths)  # the kernel's links and table
    for child in paths.run.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def test_after_a_reboot_always_and_unless_stopped_come_back(wharf, wharf_paths, rt):
    wharf("network", "create", "--subnet", "10.237.0.0/24", "boot")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(name: str, policy: str, *flags: str) -> str:
        return wharf(
            "run", "-d", "--name", name, "--restart", policy, *flags,
            "busybox", "httpd", "-f", "-p", "80", "-h", "/etc",
        ).stdout.strip()  # fmt: skip

    ids = {
        "always": run("always", "always", "--network", "boot", "-p", f"127.0.0.1:{port}:80"),
        "unless": run("unless", "unless-stopped", "--network", "boot"),
        "stopped": run("stopped", "unless-stopped", "--network", "none"),
        "plain": run("plain", "no"),
        "failing": run("failing", "on-failure:2", "--network", "none"),
    }
    wharf("stop", "-t", "0", "stopped")
    stopped_code = state(wharf, "stopped")["ExitCode"]
    pids = {n: state(wharf, n)["Pid"] for n in ("always", "unless", "plain", "failing")}
    power_cut(wharf_paths, list(pids.values()))
    start_agent(wharf_paths)  # the boot: the agent comes up first
    # on-failure too, as Docker's: an exit nobody saw counts as a failure (code 255)
    for name in ("always", "unless", "failing"):
        wait_for(
            lambda name=name: (
                (s := state(wharf, name))["Status"] == "running" and s["Pid"] != pids[name]
            ),
            f"{name} to come back",
        )
    wait_for(lambda: decided(rt, ids["plain"]), "the plain container's exit to be decided")
    plain = state(wharf, "plain")  # nobody saw how it ended: Docker's 255
    assert (plain["Status"], plain["ExitCode"]) == ("exited", 255) and "shim" in plain["Error"]
    stopped = state(wharf, "stopped")
    assert (stopped["Status"], stopped["ExitCode"]) == ("exited", stopped_code)
    died = {e.actor_id for e in rt.events.since(0, filters=["event=die"])}
    assert died == set(ids.values())
    # what came back has its network again: the published port, the name on its network
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/hostname", timeout=3) as r:  # noqa: S310
                assert r.read().decode().strip() == ids["always"][:12]
                break
        except OSError:
            assert time.monotonic() < deadline, f"127.0.0.1:{port} never answered"
            time.sleep(0.1)
    fetch = "for i in $(seq 50); do wget -q -O- http://always/hostname && exit 0; sleep 0.1; done"
    got = wharf("exec", "unless", "sh", "-c", fetch + "; exit 1").stdout
    assert got.strip() == ids["always"][:12]
