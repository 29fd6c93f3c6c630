"""50 run/rm cycles leave mounts, cgroups, processes and files as they were."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from runtime.containers.model import ContainerSpec
from tests.integration.conftest import own_container_cgroups


def _snapshot(wharf_paths) -> dict:
    # this root's mounts only: other roots' containers mount and unmount meanwhile
    ours = (str(wharf_paths.root), str(wharf_paths.run))
    mounts = [
        point
        for ln in Path("/proc/self/mountinfo").read_text().splitlines()
        if (point := ln.split()[4]).startswith(ours) or any(o in ln for o in ours)
    ]
    cgroups = own_container_cgroups(wharf_paths)
    procs = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            with contextlib.suppress(OSError):
                procs.append(Path(f"/proc/{p}/cmdline").read_bytes())
    shims = sum(1 for c in procs if b"wharf-shim" in c and str(wharf_paths.root).encode() in c)
    files = sorted(
        str(p)
        for d in (wharf_paths.root / "containers", wharf_paths.run / "containers")
        if d.exists()
        for p in d.iterdir()
    )
    return {"mounts": sorted(mounts), "cgroups": cgroups, "shims": shims, "files": files}


def test_fifty_run_rm_cycles_leave_nothing_behind(rt, busybox_image, wharf_paths):
    cm = rt.containers
    warm = cm.create(
        ContainerSpec(image="busybox", cmd=["true"])
    )  # the first run makes shared dirs
    cm.start(warm.id)
    cm.wait(warm.id)
    cm.remove(warm.id)
    before = _snapshot(wharf_paths)
    for i in range(50):
        c = cm.create(
            ContainerSpec(image="busybox", cmd=["sh", "-c", f"echo {i} > /f"], memory=32 << 20)
        )
        cm.start(c.id)
        assert cm.wait(c.id) == 0
        cm.remove(c.id)
    after = _snapshot(wharf_paths)
    assert after == before
    assert cm.list(all=True) == []


def test_parallel_runs_each_get_their_own_container(wharf, wharf_paths):
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[3]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "runtime.cli.main", "run", "--rm", "busybox", "echo", str(i)],
            cwd=repo,
            env=wharf.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    outputs = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert all(p.returncode == 0 for p in procs)
    assert outputs == sorted(str(i) for i in range(8))
    assert wharf("ps", "-aq").stdout == ""
    assert str(wharf_paths.run) not in Path("/proc/self/mountinfo").read_text()
