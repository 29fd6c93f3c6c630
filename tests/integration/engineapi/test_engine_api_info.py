"""``docker info`` through the Engine API says what the host and the root hold: counts,
storage driver, cgroups, capacity, kernel, OS, runtimes (``docker info --format
'{{json .}}'`` against what the test reads from the machine itself)."""

from __future__ import annotations

import json
import os
import platform
import socket
from pathlib import Path


def host_memory() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def test_docker_info_fills_what_the_host_knows(docker, wharf, wharf_paths) -> None:
    docker("run", "-d", "--name", "run1", "busybox", "sleep", "300")
    docker("run", "-d", "--name", "held", "busybox", "sleep", "300")
    docker("pause", "held")
    docker("run", "--name", "done", "busybox", "true")
    info = json.loads(docker("info", "--format", "{{json .}}").stdout)
    counts = [info[k] for k in ("Containers", "ContainersRunning", "ContainersPaused")]
    assert counts + [info["ContainersStopped"], info["Images"]] == [3, 1, 1, 1, 1]
    assert info["Driver"] == "overlay2"
    status = dict(info["DriverStatus"])
    assert status["Backing Filesystem"] and status["Supports d_type"] == "true"
    assert info["NCPU"] == os.cpu_count() and info["MemTotal"] == host_memory()
    assert info["KernelVersion"] == platform.release()
    assert info["OperatingSystem"] in Path("/etc/os-release").read_text()
    assert info["OSVersion"] and info["OSType"] == "linux"
    assert info["Architecture"] == platform.machine()
    v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    assert (info["CgroupDriver"], info["CgroupVersion"]) == ("cgroupfs", "2" if v2 else "1")
    assert info["MemoryLimit"] and info["PidsLimit"] and info["CPUShares"]
    assert info["IPv4Forwarding"] == (
        Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"
    )
    assert info["Name"] == socket.gethostname()
    assert info["DockerRootDir"] == str(wharf_paths.root)
    assert info["ServerVersion"] and info["SystemTime"].endswith("Z")
    assert info["DefaultRuntime"] in info["Runtimes"]
    assert Path(info["Runtimes"][info["DefaultRuntime"]]["path"]).exists()
    assert info["RuncCommit"]["ID"]  # the OCI runtime's own version
    assert (
        info["ID"]
        and info["ID"] == json.loads(docker("info", "--format", "{{json .}}").stdout)["ID"]
    )  # stable for the root
    assert isinstance(info["Warnings"], list)
    # the human form prints them too, and wharf's own template view agrees
    text = docker("info").stdout
    assert " Running: 1\n" in text and " Storage Driver: overlay2\n" in text
    assert f" Docker Root Dir: {wharf_paths.root}\n" in text
    assert wharf("info", "--format", "{{.ContainersPaused}} {{.Driver}}").stdout == "1 overlay2\n"
    docker("unpause", "held")
