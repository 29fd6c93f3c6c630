"""Lifecycle from the outside: detach, stop, kill, pause, exec, attach, logs, the shim."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _state(wharf, name: str) -> dict:
    return json.loads(wharf("inspect", name).stdout)[0]["State"]


def test_detached_container_shows_in_ps_and_inspect(wharf):
    cid = wharf(
        "run", "-d", "--name", "web", "-l", "tier=front", "busybox", "sleep", "60"
    ).stdout.strip()
    assert len(cid) == 64
    ps = [json.loads(line) for line in wharf("ps", "--format", "json").stdout.splitlines()]
    assert [(r["ID"], r["Names"], r["State"]) for r in ps] == [(cid[:12], "web", "running")]
    assert wharf("ps", "-q", "--filter", "label=tier=front").stdout.split() == [cid[:12]]
    info = json.loads(wharf("inspect", cid[:6]).stdout)[0]
    assert info["Name"] == "/web" and info["State"]["Running"] and info["State"]["Pid"] > 0
    assert info["Config"]["Cmd"] == ["sleep", "60"] and info["Config"]["Labels"] == {
        "tier": "front"
    }
    assert os.path.exists(f"/proc/{info['State']['Pid']}")


def test_stop_escalates_to_sigkill_after_the_timeout(wharf, wait_log):
    cid = wharf(
        "run", "-d", "busybox", "sh", "-c", "trap '' TERM; echo ready; while true; do sleep 1; done"
    ).stdout.strip()
    wait_log(cid)
    t0 = time.monotonic()
    wharf("stop", "-t", "1", cid)
    elapsed = time.monotonic() - t0
    state = _state(wharf, cid)
    assert state["Status"] == "exited" and state["ExitCode"] == 137
    assert 1 <= elapsed < 10


def test_stop_and_restart_kill_a_container_that_ignores_sigterm_while_it_prints(wharf, wait_log):
    # PID 1 without a TERM handler ignores SIGTERM; its steady output kept stop
    # reading the attach socket past -t (it hung for minutes)
    script = "echo ready; while :; do echo x; sleep 0.2; done"
    cid = wharf("run", "-d", "busybox", "sh", "-c", script).stdout.strip()
    wait_log(cid)
    wharf("stop", "-t", "2", cid, timeout=30)
    state = _state(wharf, cid)
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)
    wharf("start", cid)
    started = _state(wharf, cid)["StartedAt"]
    wharf("restart", "-t", "1", cid, timeout=30)
    info = json.loads(wharf("inspect", cid).stdout)[0]
    assert info["State"]["Status"] == "running" and info["State"]["StartedAt"] != started
    assert info["RestartCount"] == 0  # a person's restart is not a policy restart


def test_stop_uses_the_stop_signal(wharf, wait_log):
    cid = wharf(
        "run",
        "-d",
        "--stop-signal",
        "USR1",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 7' USR1; echo ready; while true; do sleep 0.1; done",
    ).stdout.strip()
    wait_log(cid)
    wharf("stop", cid)
    assert _state(wharf, cid)["ExitCode"] == 7


def test_pause_freezes_the_processes(wharf, wait_log):
    cid = wharf(
        "run",
        "-d",
        "busybox",
        "sh",
        "-c",
        "i=0; echo 0 > /tmp/n; echo ready; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done",
    ).stdout.strip()
    wait_log(cid)
    wharf("pause", cid)
    assert _state(wharf, cid)["Status"] == "paused"
    freezer = f"/sys/fs/cgroup/freezer/wharf/{cid}/freezer.state"
    if os.path.exists(freezer):
        assert Path(freezer).read_text().strip() == "FROZEN"
    a = _read_counter(wharf, cid)
    time.sleep(0.4)
    assert _read_counter(wharf, cid) == a
    wharf("unpause", cid)
    time.sleep(0.4)
    assert _read_counter(wharf, cid) != a


def _read_counter(wharf, cid: str) -> str:
    info = json.loads(wharf("inspect", cid).stdout)[0]
    return Path(info["GraphDriver"]["Data"]["UpperDir"], "tmp", "n").read_text()


def test_exec_runs_in_the_container(wharf):
    cid = wharf("run", "-d", "-e", "X=1", "busybox", "sleep", "60").stdout.strip()
    out = wharf(
        "exec", "-e", "Y=2", "-w", "/tmp", cid, "sh", "-c", "echo $X$Y; pwd; cat /proc/1/cmdline"
    )
    assert out.stdout.split("\n")[:2] == ["12", "/tmp"] and "sleep" in out.stdout
    assert wharf("exec", "-u", "nobody", cid, "id", "-u").stdout == "65534\n"
    assert wharf("exec", cid, "sh", "-c", "exit 5", check=False).returncode == 5
    assert wharf("exec", cid, "nosuch", check=False).returncode == 126  # Docker: 126 for exec
    assert wharf("exec", "-i", cid, "cat", input="piped\n").stdout == "piped\n"


def test_exec_into_a_stopped_container_is_refused(wharf):
    cid = wharf("create", "busybox", "true").stdout.strip()
    out = wharf("exec", cid, "true", check=False)
    assert out.returncode == 1 and "is not running" in out.stderr


def test_logs_follow_while_the_container_writes(wharf):
    cid = wharf(
        "run", "-d", "busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done"
    ).stdout.strip()
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli.main", "logs", "-f", cid],
        cwd=REPO,
        env=wharf.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    assert first == "line1\n"
    # read through the same buffered stream: communicate() would read the pipe
    # directly and miss what readline() already buffered
    rest = proc.stdout.read()
    assert proc.wait(timeout=20) == 0
    assert rest.split() == ["line2", "line3", "line4", "line5"]
    assert wharf("logs", "--tail", "2", cid).stdout.split() == ["line4", "line5"]
    stamped = wharf("logs", "-t", "--tail", "1", cid).stdout
    assert stamped.split()[0].endswith("Z") and stamped.split()[1] == "line5"
    log_path = json.loads(wharf("inspect", cid).stdout)[0]["LogPath"]
    records = [json.loads(line) for line in Path(log_path).read_text().splitlines()]
    assert (
        records[0]["log"] == "line1\n" and records[0]["stream"] == "stdout" and records[0]["time"]
    )


def test_attach_sends_stdin_and_receives_output(wharf):
    cid = wharf("run", "-d", "-i", "busybox", "sh", "-c", "read x; echo got-$x").stdout.strip()
    out = wharf("attach", cid, input="hello\n", timeout=20)
    assert out.stdout == "got-hello\n"
    assert out.returncode == 0


def test_the_shim_keeps_the_container_and_records_its_exit_with_no_wharf_process(
    wharf, wharf_paths
):
    cid = wharf("run", "-d", "busybox", "sh", "-c", "sleep 1; exit 9").stdout.strip()
    # no wharf process is alive now: only the shim watches the container
    mine = [p for p in os.listdir("/proc") if p.isdigit()]
    wharf_procs = []
    for p in mine:
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes()
        except OSError:
            continue
        if b"runtime.cli.main" in cmd and cid.encode() in cmd:
            wharf_procs.append(p)
    assert not wharf_procs
    # the exit reaches the disk, written by the shim alone
    exit_file = wharf_paths.root / "containers" / cid / "exit.json"
    deadline = time.monotonic() + 30
    while not exit_file.exists():
        assert time.monotonic() < deadline, "the shim never wrote the exit"
        time.sleep(0.05)
    info = json.loads(wharf("inspect", cid).stdout)[0]
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 9
    assert info["State"]["FinishedAt"] > info["State"]["StartedAt"]


def test_restart_and_rename(wharf):
    cid = wharf("run", "-d", "--name", "one", "busybox", "sleep", "60").stdout.strip()
    pid1 = _state(wharf, cid)["Pid"]
    wharf("restart", "-t", "0", "one")
    assert _state(wharf, cid)["Pid"] != pid1 and _state(wharf, cid)["Running"]
    wharf("rename", "one", "two")
    assert json.loads(wharf("inspect", "two").stdout)[0]["Id"] == cid


def test_top_lists_the_containers_processes(wharf):
    cid = wharf("run", "-d", "busybox", "sleep", "61").stdout.strip()
    out = wharf("top", cid).stdout
    assert "sleep 61" in out and "PID" in out.splitlines()[0]


def test_rm_refuses_a_running_container_without_force(wharf):
    cid = wharf("run", "-d", "busybox", "sleep", "60").stdout.strip()
    out = wharf("rm", cid, check=False)
    assert out.returncode == 1 and "Stop the container" in out.stderr
    pid = _state(wharf, cid)["Pid"]
    wharf("rm", "-f", cid)
    assert (
        not os.path.exists(f"/proc/{pid}")
        or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )
    assert wharf("ps", "-aq").stdout == ""


def test_detached_rm_removes_itself_when_done(wharf):
    wharf("run", "-d", "--rm", "busybox", "true")
    deadline = time.monotonic() + 10
    while wharf("ps", "-aq").stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    assert wharf("ps", "-aq").stdout == ""


def test_sigint_to_a_foreground_run_reaches_the_container(wharf):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runtime.cli.main",
            "run",
            "--name",
            "fg",
            "busybox",
            "sh",
            "-c",
            "trap 'exit 4' INT; echo ready; while true; do sleep 0.1; done",
        ],
        cwd=REPO,
        env=wharf.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 4


def test_health_check_runs_and_shows_in_ps_and_inspect(wharf):
    cid = wharf(
        "run",
        "-d",
        "--health-cmd",
        "test -e /tmp/ok",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "touch /tmp/ok; sleep 300",
    ).stdout.strip()

    def shown(wanted: str) -> None:
        # the test turns the check, not a timer in the container: a loaded machine's ps
        # may look only every few seconds
        deadline = time.monotonic() + 30
        status = ""
        while time.monotonic() < deadline:
            status = wharf("ps", "--format", "{{.Status}}").stdout.strip()
            if status.endswith(f"({wanted})"):
                return
            time.sleep(0.2)
        raise AssertionError(f"ps never showed ({wanted}); last: {status!r}")

    shown("healthy")
    wharf("exec", cid, "rm", "/tmp/ok")
    shown("unhealthy")
    health = json.loads(wharf("inspect", cid).stdout)[0]["State"]["Health"]
    assert health["Status"] == "unhealthy" and health["FailingStreak"] >= 2
    assert health["Log"][-1]["ExitCode"] == 1


def test_the_event_stream_reports_start_and_die(rt, busybox_image):
    from runtime.containers.model import ContainerSpec

    cm = rt.containers
    c = cm.create(ContainerSpec(image="busybox", cmd=["sh", "-c", "exit 2"], network="none"))
    cm.start(c.id)
    seen = []
    for event in rt.events.follow(0, filters=[f"container={c.id}"]):
        seen.append(event.action)
        if event.action == "die":
            assert event.attributes["exitCode"] == "2"
            break
    assert seen == ["create", "start", "die"]


def test_container_prune_removes_only_stopped_ones(wharf):
    wharf("run", "busybox", "true")
    wharf("create", "busybox", "true")
    keep = wharf("run", "-d", "--restart", "on-failure:3", "busybox", "sleep", "60").stdout.strip()
    out = wharf("container", "prune", "-f").stdout
    assert out.startswith("Deleted Containers:") and "Total reclaimed space" in out
    assert wharf("ps", "-aq", "--no-trunc").stdout.split() == [keep]
    policy = json.loads(wharf("container", "inspect", keep).stdout)[0]["HostConfig"][
        "RestartPolicy"
    ]
    assert policy == {"Name": "on-failure", "MaximumRetryCount": 3}


def test_host_network_shares_the_hosts_network_and_hostname(wharf):
    import socket

    out = wharf(
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "sh",
        "-c",
        "hostname; readlink /proc/self/ns/net",
    )
    name, netns = out.stdout.split()
    assert name == socket.gethostname()
    assert netns == os.readlink("/proc/self/ns/net")


def test_runtime_choice_follows_the_probe(wharf, wharf_paths):
    from runtime.oci.probe import probe_runtimes

    crun = [r for r in probe_runtimes(wharf_paths) if r.name == "crun"]
    out = wharf("run", "--rm", "--runtime", "crun", "busybox", "echo", "ran", check=False)
    if crun and crun[0].usable:
        assert out.returncode == 0 and out.stdout == "ran\n"
    else:  # crun 1.8 refuses this host's hybrid cgroups: one clear line, nothing left
        assert out.returncode == 125
        assert "crun" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert wharf("ps", "-aq").stdout == ""
    assert wharf("run", "--rm", "--runtime", "runc", "busybox", "echo", "ran").stdout == "ran\n"


def test_resize_sets_the_tty_window_size(rt, busybox_image, tmp_path):
    from runtime.containers.model import ContainerSpec

    cm = rt.containers
    c = cm.create(ContainerSpec(image="busybox", cmd=["sleep", "30"], tty=True))
    cm.start(c.id)
    cm.resize(c.id, 33, 120)
    time.sleep(0.1)
    with open(tmp_path / "out", "w+") as out:
        assert cm.exec(c.id, ["stty", "size", "-F", "/proc/1/fd/0"], stdout=out) == 0
        out.seek(0)
        assert out.read().strip() == "33 120"
    cm.remove(c.id, force=True)


def test_logs_since_and_exec_detached(wharf, wait_log):
    cid = wharf("run", "-d", "busybox", "sh", "-c", "echo early; sleep 60").stdout.strip()
    wait_log(cid, "early")
    assert wharf("logs", "--since", "1h", cid).stdout == "early\n"
    assert wharf("logs", "--since", "2099-01-01T00:00:00Z", cid).stdout == ""
    assert wharf("exec", "-d", cid, "sh", "-c", "sleep 0.2; echo bg > /tmp/bg").returncode == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if wharf("exec", cid, "cat", "/tmp/bg", check=False).stdout == "bg\n":
            break
        time.sleep(0.1)
    assert wharf("exec", cid, "cat", "/tmp/bg").stdout == "bg\n"
    # names and unique id prefixes work everywhere
    assert wharf("top", cid[:5]).returncode == 0


def test_exec_tty_gives_a_controlling_terminal(rt, busybox_image):
    from runtime.containers.model import ContainerSpec

    cm = rt.containers
    c = cm.create(ContainerSpec(image="busybox", cmd=["sleep", "30"]))
    cm.start(c.id)
    handle = cm.exec_tty(c.id, ["sh"])
    master = handle.master
    os.write(master, b"tty; echo $TERM; exit 3\n")
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert handle.wait(timeout=10) == 3
    text = out.decode()
    assert "/dev/pts/" in text and "xterm" in text


def test_log_rotation_keeps_the_newest_lines_in_order(wharf):
    cid = wharf(
        "run",
        "-d",
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=3",
        "busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo line-$i; done",
    ).stdout.strip()
    wharf("wait", cid)
    log_path = Path(json.loads(wharf("inspect", cid).stdout)[0]["LogPath"])
    files = sorted(p.name for p in log_path.parent.glob("json.log*"))
    assert files == ["json.log", "json.log.1", "json.log.2"]
    assert all(p.stat().st_size < 2048 + 200 for p in log_path.parent.glob("json.log*"))
    lines = wharf("logs", cid).stdout.split()
    assert lines[-1] == "line-300"
    numbers = [int(x.split("-")[1]) for x in lines]
    assert numbers == list(range(numbers[0], 301)) and numbers[0] > 1
    bad = wharf("run", "--rm", "--log-opt", "max-size=big", "busybox", "true", check=False)
    assert bad.returncode == 125 and "max-size" in bad.stderr
