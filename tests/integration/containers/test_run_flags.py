"""The ``run``/``create`` flags people use, each seen taking effect inside the container
(its cgroup files, /etc/hosts, /proc) and in ``inspect``, as Docker's."""

from __future__ import annotations

import json
from pathlib import Path

from runtime.containers.cgroups import cgroup_mode


def inspect(wharf, name: str) -> dict:
    return json.loads(wharf("inspect", name).stdout)[0]


def test_memory_swappiness_oom_kill_disable_and_cpuset_mems_reach_the_cgroup(wharf):
    assert cgroup_mode() != "v2", "this test reads cgroup v1 files; the host runs cgroup v2"
    out = wharf(
        "run", "--name", "tuned", "-m", "64m", "--oom-kill-disable", "--memory-swappiness", "7",
        "--cpuset-mems", "0", "busybox", "sh", "-c",
        "cat /sys/fs/cgroup/memory/memory.swappiness;"
        " grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control;"
        " cat /sys/fs/cgroup/cpuset/cpuset.mems",
    ).stdout  # fmt: skip
    assert out == "7\noom_kill_disable 1\n0\n"
    host = inspect(wharf, "tuned")["HostConfig"]
    assert (host["MemorySwappiness"], host["OomKillDisable"], host["CpusetMems"]) == (7, True, "0")
    # Docker's -1 is the host's swappiness: no value of the container's own
    wharf("create", "--name", "hosts", "--memory-swappiness", "-1", "busybox")
    assert inspect(wharf, "hosts")["HostConfig"]["MemorySwappiness"] is None
    bad = wharf("create", "--memory-swappiness", "101", "busybox", check=False)
    assert bad.returncode == 125
    assert "Invalid value: 101, valid memory swappiness range is 0-100" in bad.stderr


def test_cidfile_gets_the_id_and_an_existing_one_is_refused(wharf, tmp_path):
    cidfile = tmp_path / "cid"
    cid = wharf("create", "--cidfile", str(cidfile), "busybox").stdout.strip()
    assert cidfile.read_text() == cid  # no new line, as Docker writes it
    assert inspect(wharf, cid)["HostConfig"]["ContainerIDFile"] == str(cidfile)
    before = wharf("ps", "-aq").stdout
    again = wharf("run", "--cidfile", str(cidfile), "busybox", "true", check=False)
    assert again.returncode == 125
    assert again.stderr.strip().endswith(
        f"Container ID file found, make sure the other container isn't running or delete {cidfile}"
    )
    assert wharf("ps", "-aq").stdout == before, "nothing half-made"


def test_label_file_labels_come_before_the_flags(wharf, tmp_path):
    labels = Path(tmp_path / "labels")
    labels.write_text("# the team\nteam=a\n\nb=2\n")
    wharf("create", "--name", "lab", "--label-file", str(labels), "-l", "b=3", "busybox")
    assert inspect(wharf, "lab")["Config"]["Labels"] == {"team": "a", "b": "3"}
    missing = wharf("create", "--label-file", str(tmp_path / "nope"), "busybox", check=False)
    assert missing.returncode == 125 and "nope" in missing.stderr
