"""Find the OCI runtimes on this host and which of them really work here.

A version string cannot tell whether a runtime copes with this host's cgroup
layout (crun 1.8 refuses hybrid v1/v2 hosts; runc handles them), so each
runtime runs a tiny container once and the answer is cached under the run
directory until the runtime binary changes or the host reboots.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from runtime.config import Paths
from runtime.errors import HostError

KNOWN_RUNTIMES = ("runc", "crun")
PROBE_BINARY = "/bin/busybox"


@dataclass(frozen=True)
class RuntimeInfo:
    name: str
    path: str
    version: str
    usable: bool
    reason: str = ""


def probe_runtimes(paths: Paths) -> list[RuntimeInfo]:
    """Return every known OCI runtime found on PATH, each tested for real (cached)."""
    cache_file = paths.run / "oci-probe.json"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    found, changed = [], False
    for name in KNOWN_RUNTIMES:
        path = shutil.which(name)
        if path is None:
            continue
        st = os.stat(path)
        key = f"{path}:{st.st_mtime_ns}:{st.st_size}"
        if key in cache:
            found.append(RuntimeInfo(**cache[key]))
            continue
        info = _probe_one(name, path, paths)
        cache[key] = asdict(info)
        changed = True
        found.append(info)
    if changed:
        paths.run.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache))
        tmp.replace(cache_file)
    return found


def choose_runtime(paths: Paths, preferred: str | None = None) -> RuntimeInfo:
    """Pick the runtime to use: the one asked for, else the host config's, else the first usable."""
    runtimes = probe_runtimes(paths)
    wanted = preferred or paths.config.oci_runtime
    if wanted:
        for info in runtimes:
            if wanted in (info.name, info.path):
                if not info.usable:
                    raise HostError(
                        f"OCI runtime {info.name} does not work on this host: {info.reason}"
                    )
                return info
        raise HostError(f"OCI runtime {wanted!r} is not installed")
    for info in runtimes:
        if info.usable:
            return info
    reasons = (
        "; ".join(f"{i.name}: {i.reason}" for i in runtimes) or "none of runc, crun is installed"
    )
    raise HostError(f"no usable OCI runtime on this host ({reasons})")


def _version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    first = out.splitlines()[0] if out else ""
    return first.split()[-1] if first else "unknown"


def _probe_one(name: str, path: str, paths: Paths) -> RuntimeInfo:
    version = _version(path)
    if os.geteuid() != 0:
        return RuntimeInfo(name, path, version, False, "probe needs root")
    if not os.path.exists(PROBE_BINARY):
        return RuntimeInfo(
            name, path, version, False, f"{PROBE_BINARY} missing (install busybox-static)"
        )
    paths.run.mkdir(parents=True, exist_ok=True)
    bundle = Path(tempfile.mkdtemp(prefix="oci-probe-", dir=paths.run))
    container_id = f"wharf-probe-{uuid.uuid4().hex[:12]}"
    state_root = bundle / "state"
    try:
        rootfs = bundle / "rootfs"
        rootfs.mkdir()
        for d in ("proc", "dev", "sys", "tmp"):
            (rootfs / d).mkdir()
        shutil.copy2(PROBE_BINARY, rootfs / "busybox")
        (bundle / "config.json").write_text(json.dumps(_probe_config()))
        proc = subprocess.run(
            [path, "--root", str(state_root), "run", "--bundle", str(bundle), container_id],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode == 0:
            return RuntimeInfo(name, path, version, True, "")
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        return RuntimeInfo(
            name, path, version, False, lines[-1].strip() if lines else f"exit {proc.returncode}"
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return RuntimeInfo(name, path, version, False, str(exc))
    finally:
        subprocess.run(
            [path, "--root", str(state_root), "delete", "--force", container_id],
            capture_output=True,
            timeout=30,
        )
        shutil.rmtree(bundle, ignore_errors=True)


def _probe_config() -> dict:
    """Return the smallest config.json that exercises namespaces, mounts and cgroups."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["/busybox", "true"],
            "env": ["PATH=/"],
            "cwd": "/",
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "probe",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts", "network")],
            "resources": {"pids": {"limit": 16}},
            "cgroupsPath": f"/wharf-probe-{uuid.uuid4().hex[:12]}",
        },
    }
