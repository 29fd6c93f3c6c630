"""cgroup limits that hold: memory (OOM kill), pids (fork bomb), CPU, seen in the cgroup files."""

from __future__ import annotations

import time
from pathlib import Path

from runtime.containers.cgroups import cgroup_mode


def _cgroup_file(cid: str, controller: str, name: str) -> str:
    if cgroup_mode() == "v2":
        return (Path("/sys/fs/cgroup/wharf") / cid / name).read_text().strip()
    return (Path("/sys/fs/cgroup") / controller / "wharf" / cid / name).read_text().strip()


def test_memory_limit_ends_in_an_oom_kill(wharf):
    out = wharf(
        "run",
        "--name",
        "hog",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "sh",
        "-c",
        "head -c 200m /dev/zero | tail",
        check=False,
    )
    info = wharf(
        "inspect", "hog", "--format", "{{.State.OOMKilled}} {{.State.ExitCode}}"
    ).stdout.split()
    assert info[0] == "true"
    assert out.returncode == 137 or info[1] in ("137", "1")


def test_memory_oom_of_pid_1_is_exit_137(wharf):
    # the limit kills the container's main process itself: Docker's "OOMKilled: true, 137"
    wharf(
        "run",
        "--name",
        "hog1",
        "-m",
        "8m",
        "--memory-swap",
        "8m",
        "busybox",
        "sh",
        "-c",
        "x=$(head -c 100m /dev/zero | tr '\\0' a); echo never",
        check=False,
    )
    state = wharf(
        "inspect", "hog1", "--format", "{{.State.OOMKilled}} {{.State.ExitCode}}"
    ).stdout.split()
    assert state == ["true", "137"]


def test_limits_show_in_the_cgroup_files(wharf):
    cid = wharf(
        "run",
        "-d",
        "-m",
        "64m",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "512",
        "--cpuset-cpus",
        "0",
        "--pids-limit",
        "50",
        "busybox",
        "sleep",
        "60",
    ).stdout.strip()
    if cgroup_mode() == "v2":
        assert _cgroup_file(cid, "", "memory.max") == str(64 * 1024 * 1024)
        assert _cgroup_file(cid, "", "cpu.max") == "50000 100000"
        assert _cgroup_file(cid, "", "pids.max") == "50"
    else:
        assert _cgroup_file(cid, "memory", "memory.limit_in_bytes") == str(64 * 1024 * 1024)
        assert _cgroup_file(cid, "memory", "memory.memsw.limit_in_bytes") == str(128 * 1024 * 1024)
        assert _cgroup_file(cid, "cpu", "cpu.cfs_quota_us") == "50000"
        assert _cgroup_file(cid, "cpu", "cpu.shares") == "512"
        assert _cgroup_file(cid, "cpuset", "cpuset.cpus") == "0"
        assert _cgroup_file(cid, "pids", "pids.max") == "50"
    stats = wharf("stats", "--no-stream", "--format", "{{.PIDs}} {{.MemUsage}}", cid).stdout.split()
    assert stats[0] == "1" and stats[-1] in ("67.1MB", "64MiB")


def test_a_fork_bomb_is_contained_by_the_pids_limit(wharf):
    cid = wharf(
        "run",
        "-d",
        "--pids-limit",
        "20",
        "busybox",
        "sh",
        "-c",
        'while true; do sh -c "sleep 30 &" 2>/dev/null; done',
    ).stdout.strip()
    time.sleep(1.5)
    current = int(_cgroup_file(cid, "pids", "pids.current"))
    assert 15 <= current <= 20
    if cgroup_mode() != "v2":
        assert int(_cgroup_file(cid, "pids", "pids.events").split()[-1]) > 0  # forks were refused
    wharf("rm", "-f", cid)


def test_block_io_throttle_and_shm_size(wharf):
    import os
    import stat

    device = next(
        f"/dev/{d}"
        for d in sorted(os.listdir("/sys/block"))
        if os.path.exists(f"/dev/{d}") and stat.S_ISBLK(os.stat(f"/dev/{d}").st_mode)
    )
    rdev = os.stat(device).st_rdev
    cid = wharf(
        "run",
        "-d",
        "--device-read-bps",
        f"{device}:1mb",
        "--shm-size",
        "16m",
        "busybox",
        "sleep",
        "60",
    ).stdout.strip()
    if cgroup_mode() == "v2":
        assert f"{os.major(rdev)}:{os.minor(rdev)} rbps=1048576" in _cgroup_file(cid, "", "io.max")
    else:
        rule = _cgroup_file(cid, "blkio", "blkio.throttle.read_bps_device")
        assert rule == f"{os.major(rdev)}:{os.minor(rdev)} 1048576"
    shm = wharf("exec", cid, "df", "-k", "/dev/shm").stdout.splitlines()[-1].split()
    assert shm[1] == "16384"
    bad = wharf(
        "run", "--rm", "--device-read-bps", "/etc/passwd:1mb", "busybox", "true", check=False
    )
    assert bad.returncode == 125 and "BLOCKDEVICE:RATE" in bad.stderr
