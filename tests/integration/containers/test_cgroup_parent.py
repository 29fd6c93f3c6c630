"""``--cgroup-parent``: the container's cgroup is made under the given one, and what
reads its cgroup (stats, OOM detection, clean-up) finds it there."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runtime.containers.cgroups import cgroup_dirs


@pytest.fixture
def parent():
    """A parent cgroup unique to this test run, removed at the end in every layout."""
    name = f"wharf-test-parent-{os.getpid()}-{os.urandom(3).hex()}"
    yield f"/{name}"
    for d in cgroup_dirs(f"/{name}"):
        for child in d.iterdir():
            if child.is_dir():
                child.rmdir()
        d.rmdir()


def test_a_container_lives_under_its_cgroup_parent(wharf, parent):
    cid = wharf("run", "-d", "--cgroup-parent", parent, "-m", "32m", "--network", "none",
                "busybox", "sleep", "300").stdout.strip()  # fmt: skip
    info = json.loads(wharf("inspect", cid).stdout)[0]
    assert info["HostConfig"]["CgroupParent"] == parent
    lines = Path(f"/proc/{info['State']['Pid']}/cgroup").read_text().splitlines()
    wanted = f"{parent}/{cid}"
    memory = [ln for ln in lines if ln.split(":")[1] in ("memory", "")]
    assert memory and all(ln.split(":", 2)[2] == wanted for ln in memory), lines
    assert not any(f"/wharf/{cid}" in ln for ln in lines), lines
    # stats read the cgroup where it is: the memory limit shows
    row = wharf("stats", "--no-stream", "--format", "{{.MemUsage}}", cid).stdout.strip()
    assert row.endswith(" / 32MiB"), row
    wharf("rm", "-f", cid)
    assert not any(d.name == cid for p in cgroup_dirs(parent) for d in p.iterdir())


def test_an_oom_kill_under_a_cgroup_parent_is_seen(wharf, parent):
    wharf("run", "--name", "hog", "--cgroup-parent", parent, "-m", "16m", "--memory-swap",
          "16m", "--network", "none", "busybox", "sh", "-c", "head -c 200m /dev/zero | tail",
          check=False)  # fmt: skip
    state = wharf("inspect", "-f", "{{.State.OOMKilled}}", "hog").stdout.strip()
    assert state == "true"
    wharf("rm", "hog")


def test_a_bad_cgroup_parent_is_refused(wharf):
    out = wharf("run", "--cgroup-parent", "../escape", "busybox", "true", check=False)
    assert out.returncode == 125 and "invalid --cgroup-parent" in out.stderr
    assert wharf("ps", "-aq").stdout == ""
