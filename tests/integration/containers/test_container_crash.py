"""Crash safety: a CLI killed at any point of create/start leaves a usable container or nothing;
the startup check repairs leftovers and marks lost containers exited (255) with a reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_killing_the_cli_during_run_leaves_a_usable_container_or_nothing(wharf, wharf_paths):
    for delay in (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 0.4):
        proc = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli.main", "run", "-d", "busybox", "sleep", "30"],
            cwd=REPO,
            env=wharf.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    for line in wharf("ps", "-a", "--format", "json").stdout.splitlines():
        rec = json.loads(line)
        state = json.loads(wharf("inspect", rec["ID"]).stdout)[0]["State"]
        if state["Status"] == "running":
            assert os.path.exists(f"/proc/{state['Pid']}")
        else:
            assert state["Status"] == "created", state
            wharf("start", rec["ID"])  # usable
            assert json.loads(wharf("inspect", rec["ID"]).stdout)[0]["State"]["Running"]
    ids = wharf("ps", "-aq").stdout.split()
    if ids:
        wharf("rm", "-f", *ids)
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(wharf_paths.run) not in mounts
    left = wharf_paths.root / "containers"
    assert not left.exists() or not list(left.iterdir())
    assert not (wharf_paths.run / "netns").exists() or not list(
        (wharf_paths.run / "netns").iterdir()
    )


def test_a_container_whose_shim_died_is_marked_exited_255_with_a_reason(wharf, wharf_paths):
    cid = wharf("run", "-d", "busybox", "sleep", "30").stdout.strip()
    pid = json.loads(wharf("inspect", cid).stdout)[0]["State"]["Pid"]
    shim = int(
        Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    )  # parent of pid 1
    os.kill(shim, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    state = json.loads(wharf("inspect", cid).stdout)[0]["State"]
    # Docker's code for an exit nobody saw
    assert state["Status"] == "exited" and state["ExitCode"] == 255 and "shim" in state["Error"]
    wharf("rm", cid)


def test_the_startup_check_removes_stale_mounts_and_dirs(rt, busybox_image, wharf_paths):
    from runtime.containers import rootfs as rootfs_mod
    from runtime.containers.model import ContainerSpec

    cm = rt.containers
    c = cm.create(ContainerSpec(image="busybox", cmd=["true"]))
    # a leftover of a crash: the rootfs still mounted, a dir with no record
    lower = list(reversed(rt.images.layer_paths(busybox_image)))
    base = cm.dir(c.id)
    rootfs_mod.mount_overlay(lower, base / "upper", base / "work", cm.run_dir(c.id) / "rootfs")
    orphan = wharf_paths.root / "containers" / ("f" * 64)
    (orphan / "upper").mkdir(parents=True)
    (wharf_paths.run / "containers.repaired").unlink()  # as after a reboot
    done = cm.repair()
    assert any("stale rootfs" in line for line in done)
    assert not orphan.exists()
    assert str(cm.run_dir(c.id)) not in Path("/proc/self/mountinfo").read_text()
    cm.start(c.id)
    assert cm.wait(c.id) == 0
