"""Facts about this host that the fleet records: kernel, cgroups, OCI runtimes, capacity.

The worker gathers them at start and with every heartbeat, so the site shows
what the host really has, not what someone typed in.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path

from runtime.config import Paths

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_mode(root: Path = CGROUP_ROOT) -> str:
    """Return "v2", "hybrid" (v1 controllers plus a v2 mount) or "v1"."""
    if (root / "cgroup.controllers").exists():
        return "v2"
    if (root / "unified" / "cgroup.procs").exists():
        return "hybrid"
    return "v1"


def cgroup_controllers(root: Path = CGROUP_ROOT) -> list[str]:
    """Return the controllers this host can limit with, whichever hierarchy holds them."""
    if cgroup_mode(root) == "v2":
        return sorted((root / "cgroup.controllers").read_text().split())
    found = set()
    for line in Path("/proc/cgroups").read_text().splitlines()[1:]:
        name, _hier, _num, enabled = line.split()
        if enabled == "1":
            found.add(name)
    return sorted(found)


def memory_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def system_cpu_ns() -> int:
    """The host's CPU time since boot, all CPUs, in nanoseconds (the first line of
    /proc/stat, as Docker's ``system_cpu_usage``: a stats client divides by its change)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:8]  # user nice system idle iowait irq softirq
    return sum(int(v) for v in fields) * 10**9 // os.sysconf("SC_CLK_TCK")


def disk_free_bytes(path: Path) -> int:
    """Free bytes on the filesystem that holds ``path`` (its nearest existing parent)."""
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def gather(paths: Paths | None = None) -> dict:
    """Return this host's facts as a JSON-ready dict."""
    from runtime.errors import HostError
    from runtime.oci.probe import choose_runtime, probe_runtimes

    paths = paths or Paths.from_env()
    runtimes = probe_runtimes(paths)
    try:
        chosen = choose_runtime(paths).name
    except HostError:
        chosen = None
    return {
        "kernel": platform.release(),
        "os": _os_release(),
        "architecture": platform.machine(),
        "cgroup_mode": cgroup_mode(),
        "cgroup_controllers": cgroup_controllers(),
        "oci_runtimes": [
            {
                "name": r.name,
                "path": r.path,
                "version": r.version,
                "usable": r.usable,
                "reason": r.reason,
            }
            for r in runtimes
        ],
        "oci_runtime": chosen,
        "cpus": os.cpu_count() or 0,
        "memory_bytes": memory_bytes(),
        "disk_free_bytes": disk_free_bytes(paths.root),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "wharf_root": str(paths.root),
        "versions": {"wharf": wharf_version(), "python": sys.version.split()[0]},
    }


#: Docker's names for the filesystems under its root (pkg/fsutils, graphdriver's FsMagic)
_FS_NAMES = {"ext2": "extfs", "ext3": "extfs", "ext4": "extfs", "overlay": "overlayfs"}


def backing_filesystem(path: Path) -> str:
    """The filesystem holding ``path``, as Docker names it in ``info`` (ext4 is "extfs")."""
    real = os.path.realpath(path)
    best, kind = "", "unknown"
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return kind
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return _FS_NAMES.get(kind, kind)


def proc_flag(name: str) -> bool:
    """Whether the sysctl ``/proc/sys/NAME`` is on (absent: off)."""
    try:
        return Path("/proc/sys", name).read_text().strip() == "1"
    except OSError:
        return False


def os_version() -> str:
    """The distribution's VERSION_ID (Docker's ``OSVersion``), empty when unknown."""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_ID="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return ""


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def wharf_version() -> str:
    try:
        from importlib.metadata import version

        return version("wharf")
    except Exception:  # noqa: BLE001 - running from a checkout without metadata
        return "dev"
