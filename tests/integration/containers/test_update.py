"""``update``: a live container's limits change in its cgroup at once, and its record
(inspect) keeps them, with the restart policy, as Docker's ``update``."""

from __future__ import annotations

import json

from runtime.containers.cgroups import cgroup_mode


def test_update_applies_limits_to_a_running_container_and_records_them(wharf):
    assert cgroup_mode() != "v2", "this test reads cgroup v1 files; the host runs cgroup v2"
    wharf("run", "-d", "--name", "live", "-m", "64m", "busybox", "sleep", "60")
    out = wharf(
        "update", "-m", "128m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "50",
        "--restart", "on-failure:2", "live",
    ).stdout  # fmt: skip
    assert out == "live\n"
    seen = wharf(
        "exec", "live", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
        "/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/pids/pids.max",
    ).stdout.split()  # fmt: skip
    assert seen == ["134217728", "50000", "100000", "512", "50"]
    host = json.loads(wharf("inspect", "live").stdout)[0]["HostConfig"]
    assert host["Memory"] == 134217728 and host["NanoCpus"] == 500000000
    assert host["CpuShares"] == 512 and host["PidsLimit"] == 50
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    # the next start keeps them
    wharf("restart", "-t", "0", "live")
    assert wharf("exec", "live", "cat", "/sys/fs/cgroup/pids/pids.max").stdout == "50\n"
    wharf("rm", "-f", "live")


def test_update_of_a_stopped_container_and_bad_values(wharf):
    wharf("create", "--name", "idle", "busybox", "true")
    wharf("update", "--cpuset-cpus", "0", "--blkio-weight", "300", "idle")
    host = json.loads(wharf("inspect", "idle").stdout)[0]["HostConfig"]
    assert host["CpusetCpus"] == "0" and host["BlkioWeight"] == 300
    none = wharf("update", "idle", check=False)
    assert none.returncode != 0
    assert "you must provide one or more flags when using this command" in none.stderr
    bad = wharf("update", "-m", "1k", "idle", check=False)
    assert bad.returncode != 0 and "minimum memory limit allowed is 6MB" in bad.stderr
