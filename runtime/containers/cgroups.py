"""The container's cgroups: host mode, limits as OCI resources, counters for stats."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from runtime.containers.config import now_iso
from runtime.containers.model import ContainerSpec

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_path(ctr_id: str, parent: str = "") -> str:
    """A container's cgroup path (runc's cgroupsPath): ``/wharf/<id>``, or ``/PARENT/<id>``
    under ``--cgroup-parent`` (a relative parent is taken from the root, as Docker's
    cgroupfs driver does). Stats, OOM detection, clean-up and the OCI config all ask here."""
    return f"/{(parent or 'wharf').strip('/')}/{ctr_id}"


def cgroup_dirs(path: str, root: Path = CGROUP_ROOT) -> list[Path]:
    """The directories of one cgroup path on this host, in either layout: v2 (unified)
    keeps one tree, ``ROOT/<path>``; v1 one per controller, ``ROOT/<controller>/<path>``
    (a hybrid host's ``unified/<path>`` too)."""
    rel = path.strip("/")
    return sorted(p for p in [root / rel, *root.glob(f"*/{rel}")] if p.is_dir())


def container_cgroups(root: Path = CGROUP_ROOT) -> list[Path]:
    """Return the cgroup directories of Wharf's containers under the default ``/wharf``.

    Only directories named by a container id: the files of ``wharf`` itself are not ones.
    (A container under ``--cgroup-parent`` is found by its record: ``cgroup_dirs``.)
    """
    found = [*root.glob("wharf/*"), *root.glob("*/wharf/*")]
    return sorted(p for p in found if _is_container_id(p.name) and p.is_dir())


def _is_container_id(name: str) -> bool:
    return len(name) == 64 and all(ch in "0123456789abcdef" for ch in name)


def cgroup_mode() -> str:
    """Return ``v2``, ``hybrid`` or ``v1`` for this host."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "v2"
    return "hybrid" if os.path.isdir("/sys/fs/cgroup/unified") else "v1"


def swap_accounting() -> bool:
    if cgroup_mode() == "v2":
        return True
    return os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")


def resources(spec: ContainerSpec, *, swap: bool, block: dict) -> dict:
    """Return the OCI linux.resources for the limits of a spec (Docker's swap default: 2x).

    Pure: the host's facts come in, ``swap`` (``swap_accounting()``) and ``block``
    (``block_io(spec)``, which resolves device paths).
    """
    res: dict[str, Any] = {}
    memory: dict[str, int] = {}
    if spec.memory > 0:
        memory["limit"] = spec.memory
        if swap:
            if spec.memory_swap == -1:
                memory["swap"] = -1
            elif spec.memory_swap > 0:
                memory["swap"] = spec.memory_swap
            else:
                memory["swap"] = 2 * spec.memory
    if spec.memory_reservation > 0:
        memory["reservation"] = spec.memory_reservation
    if spec.memory_swappiness is not None:
        memory["swappiness"] = spec.memory_swappiness
    if spec.oom_kill_disable:
        memory["disableOOMKiller"] = True
    if memory:
        res["memory"] = memory
    cpu: dict[str, Any] = {}
    if spec.cpus:
        cpu["period"] = 100000
        cpu["quota"] = int(spec.cpus * 100000)
    if spec.cpu_shares:
        cpu["shares"] = spec.cpu_shares
    if spec.cpuset_cpus:
        cpu["cpus"] = spec.cpuset_cpus
    if spec.cpuset_mems:
        cpu["mems"] = spec.cpuset_mems
    if spec.cpu_period:
        cpu["period"] = spec.cpu_period
    if spec.cpu_quota:
        cpu["quota"] = spec.cpu_quota
    if cpu:
        res["cpu"] = cpu
    if spec.pids_limit:
        res["pids"] = {"limit": spec.pids_limit}
    if block:
        res["blockIO"] = block
    return res


def block_io(spec: ContainerSpec) -> dict:
    """Return OCI blockIO for --blkio-weight and --device-read/write-bps (devices by path)."""
    from runtime.containers.model import parse_size
    from runtime.errors import InvalidArgument

    out: dict[str, Any] = {}
    if spec.blkio_weight:
        weight_files = (
            "/sys/fs/cgroup/blkio/blkio.weight",
            "/sys/fs/cgroup/blkio/blkio.bfq.weight",
        )
        if cgroup_mode() != "v2" and not any(os.path.exists(f) for f in weight_files):
            raise InvalidArgument(
                "--blkio-weight is not supported on this host (no blkio weight file)"
            )
        out["weight"] = spec.blkio_weight
    for key, items in (
        ("throttleReadBpsDevice", spec.device_read_bps),
        ("throttleWriteBpsDevice", spec.device_write_bps),
    ):
        rules = []
        for item in items:
            path, sep, rate = item.rpartition(":")
            try:
                st = os.stat(path) if sep else None
            except OSError:
                st = None
            if st is None or not stat.S_ISBLK(st.st_mode):
                raise InvalidArgument(f"invalid device rate {item!r}: expected BLOCKDEVICE:RATE")
            rules.append(
                {
                    "major": os.major(st.st_rdev),
                    "minor": os.minor(st.st_rdev),
                    "rate": parse_size(rate, "device rate"),
                }
            )
        if rules:
            out[key] = rules
    return out


def devices(spec: ContainerSpec) -> tuple[list[dict], list[dict]]:
    """Return OCI linux.devices and their cgroup rules for ``--device`` (host paths stat'ed)."""
    from runtime.containers.model import parse_device
    from runtime.errors import InvalidArgument

    nodes: list[dict] = []
    rules: list[dict] = []
    for text in spec.devices:
        host, ctr, perms = parse_device(text)
        try:
            st = os.stat(host)
        except OSError:
            raise InvalidArgument(
                f"error gathering device information while adding custom device {host!r}: "
                "no such file or directory"
            ) from None
        if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
            raise InvalidArgument(f"{host} is not a device node")
        kind = "c" if stat.S_ISCHR(st.st_mode) else "b"
        major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
        nodes.append(
            {
                "path": ctr,
                "type": kind,
                "major": major,
                "minor": minor,
                "fileMode": stat.S_IMODE(st.st_mode),
                "uid": st.st_uid,
                "gid": st.st_gid,
            }
        )
        rules.append({"allow": True, "type": kind, "major": major, "minor": minor, "access": perms})
    return nodes, rules


def cgroup_stats(path: str) -> dict:
    """Read memory, CPU, pids and block I/O counters of a container's cgroup (v1 or v2),
    given its ``cgroup_path``."""

    def read(path: str) -> str:
        try:
            return Path(path).read_text().strip()
        except OSError:
            return ""

    def num(text: str) -> int:
        return int(text) if text.isdigit() else 0

    def fields(text: str) -> dict[str, int]:
        return {k: num(v) for k, _, v in (ln.partition(" ") for ln in text.splitlines())}

    io_read = io_write = 0
    if cgroup_mode() == "v2":
        base = f"/sys/fs/cgroup{path}"
        mem = num(read(f"{base}/memory.current"))
        cache = fields(read(f"{base}/memory.stat")).get("inactive_file", 0)
        limit_text = read(f"{base}/memory.max")
        cpu_line = dict(ln.split() for ln in read(f"{base}/cpu.stat").splitlines() if ln)
        cpu_ns = int(cpu_line.get("usage_usec", 0)) * 1000
        pids = num(read(f"{base}/pids.current"))
        for line in read(f"{base}/io.stat").splitlines():  # "8:0 rbytes=… wbytes=… …"
            counters = dict(w.partition("=")[::2] for w in line.split()[1:])
            io_read += num(counters.get("rbytes", ""))
            io_write += num(counters.get("wbytes", ""))
    else:
        base = "/sys/fs/cgroup/{}" + path
        mem = num(read(base.format("memory") + "/memory.usage_in_bytes"))
        cache = fields(read(base.format("memory") + "/memory.stat")).get("total_inactive_file", 0)
        limit_text = read(base.format("memory") + "/memory.limit_in_bytes")
        cpu_ns = num(read(base.format("cpuacct") + "/cpuacct.usage"))
        pids = num(read(base.format("pids") + "/pids.current"))
        blkio = base.format("blkio") + "/blkio.throttle.io_service_bytes_recursive"
        for line in read(blkio).splitlines():  # "8:0 Read 4096"; the last line is "Total N"
            parts = line.split()
            if len(parts) == 3 and parts[1].lower() == "read":
                io_read += num(parts[2])
            elif len(parts) == 3 and parts[1].lower() == "write":
                io_write += num(parts[2])
    # as Docker's client: the page cache the kernel may drop does not count as used
    mem = mem - cache if cache < mem else mem
    limit = num(limit_text)
    host_mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if not limit or limit > host_mem:
        limit = host_mem
    return {
        "memory_usage": mem,
        "memory_limit": limit,
        "cpu_usage_ns": cpu_ns,
        "pids": pids,
        "blkio_read": io_read,
        "blkio_write": io_write,
        "read": now_iso(),
    }
