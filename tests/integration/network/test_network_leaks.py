"""Nothing of a container or network stays on the host: after rm, and after a crash + repair."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from runtime.agent import client
from runtime.containers.model import ContainerSpec
from runtime.network.manager import host_tag


def snapshot(paths) -> dict:
    """This test host's footprint: links, pinned namespaces, nftables table, mounts."""
    tag = host_tag(paths.root)
    netns = paths.run / "netns"
    table = subprocess.run(
        ["nft", "list", "table", "ip", f"wharf_{tag}"], capture_output=True, text=True
    ).stdout
    return {
        "links": sorted(
            p.name
            for p in Path("/sys/class/net").iterdir()
            if p.name.startswith((f"wh{tag}-", f"wv{tag}"))  # not another root's random veth
        ),
        "netns": sorted(p.name for p in netns.iterdir()) if netns.exists() else [],
        "nft": table,
        "mounts": sorted(
            ln.split()[4]
            for ln in Path("/proc/self/mountinfo").read_text().splitlines()
            if str(paths.run) in ln or str(paths.root) in ln
        ),
    }


def settles(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """The kernel frees a namespace's veths just after its last process: allow it a moment."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fifty_cycles_on_a_user_network_leave_the_host_as_it_was(rt, busybox_image, wharf_paths):
    nm, cm = rt.networks, rt.containers
    net = nm.create("cycle")
    warm = cm.create(ContainerSpec(image="busybox", cmd=["true"], network="cycle"))
    cm.start(warm.id)
    cm.wait(warm.id)
    cm.remove(warm.id)
    assert settles(lambda: snapshot(wharf_paths)["links"] == [net.bridge])
    before = snapshot(wharf_paths)
    port = free_port()
    for i in range(50):
        c = cm.create(
            ContainerSpec(
                image="busybox",
                cmd=["sh", "-c", "ip -o addr show eth0"],
                network="cycle",
                network_aliases=[f"n{i}"],
                ports=[f"127.0.0.1:{port}:80"],
            )
        )
        cm.start(c.id)
        assert cm.wait(c.id) == 0
        cm.remove(c.id)
    assert settles(lambda: snapshot(wharf_paths) == before), snapshot(wharf_paths)
    for table in ("sandboxes", "endpoints", "published", "attachments"):
        assert nm.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table  # noqa: S608
    nm.remove("cycle")
    after_rm = snapshot(wharf_paths)
    assert after_rm["links"] == [] and net.bridge not in after_rm["nft"]


def test_a_crash_is_repaired_by_the_startup_check(wharf, wharf_paths, rt):
    """Container and agent die without any clean-up; the repair frees what they held."""
    wharf("network", "create", "crashy")
    port = free_port()
    cid = wharf(
        "run", "-d", "--network", "crashy", "-p", f"127.0.0.1:{port}:80", "busybox", "sleep", "300"
    ).stdout.strip()
    state = json.loads(wharf("inspect", cid).stdout)[0]["State"]
    shim = int(Path(f"/proc/{state['Pid']}/stat").read_text().rsplit(")", 1)[1].split()[1])
    agent_pid = int((wharf_paths.run / "agent.pid").read_text())
    held = snapshot(wharf_paths)
    assert any(name.startswith("wv") for name in held["links"]) and held["netns"] == [cid]
    for pid in (agent_pid, shim, state["Pid"]):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert not client.running(wharf_paths)
    done = rt.containers.repair()
    assert any("recorded its exit" in line for line in done), done
    baseline = snapshot(wharf_paths)
    assert baseline["netns"] == []
    assert settles(lambda: not any(n.startswith("wv") for n in snapshot(wharf_paths)["links"]))
    assert str(port) in held["nft"] and not re.search(rf"\b{port}\b", baseline["nft"])
    # the repaired host works: a new container gets a network and a name
    out = wharf("run", "--rm", "--network", "crashy", "busybox", "ip", "-o", "addr", "show", "eth0")
    assert "inet " in out.stdout
