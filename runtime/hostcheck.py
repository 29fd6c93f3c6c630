"""The host check: prove, on this very host, that Wharf's kernel needs are met.

Each check really does the thing (mounts an overlay, makes namespaces, runs a
container through the OCI runtime) and yields one line as soon as it is done,
so the job page shows progress as it happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runtime.config import Paths


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"[{'ok' if self.ok else 'FAIL'}] {self.name}: {self.detail}"


def run_checks(paths: Paths | None = None) -> Iterator[CheckResult]:
    """Run every check in order, yielding each result as soon as it is known."""
    paths = paths or Paths.from_env()
    checks: list[tuple[str, Callable[[Paths], str]]] = [
        ("running as root", _check_root),
        ("overlay mount works", _check_overlay),
        ("namespaces can be created", _check_namespaces),
        ("cgroup controllers present", _check_cgroups),
        ("OCI runtime answers", _check_oci_runtime),
    ]
    for name, check in checks:
        try:
            yield CheckResult(name, True, check(paths))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a FAIL line
            yield CheckResult(name, False, str(exc) or type(exc).__name__)


def _check_root(paths: Paths) -> str:
    if os.geteuid() != 0:
        raise PermissionError(f"euid is {os.geteuid()}; the worker must run as root")
    return "euid 0"


def _check_overlay(paths: Paths) -> str:
    paths.ensure()
    base = Path(tempfile.mkdtemp(prefix="hostcheck-", dir=paths.root))
    merged = base / "merged"
    try:
        for d in ("lower", "upper", "work", "merged"):
            (base / d).mkdir()
        (base / "lower" / "probe").write_text("lower")
        opts = f"lowerdir={base / 'lower'},upperdir={base / 'upper'},workdir={base / 'work'}"
        _run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)])
        try:
            (merged / "probe").write_text("upper")
            (merged / "new").write_text("x")
            lower_kept = (base / "lower" / "probe").read_text() == "lower"
            copied_up = (base / "upper" / "probe").read_text() == "upper"
        finally:
            _run(["umount", str(merged)])
        if not (lower_kept and copied_up):
            raise RuntimeError("overlay mounted but copy-up did not behave")
        return f"mounted, wrote through to upper, lower untouched (under {paths.root})"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _check_namespaces(paths: Paths) -> str:
    kinds = {
        "pid": "--pid --fork",
        "mount": "--mount",
        "uts": "--uts",
        "ipc": "--ipc",
        "net": "--net",
        "user": "--user",
        "cgroup": "--cgroup",
    }
    made = []
    for name, flags in kinds.items():
        _run(["unshare", *flags.split(), "true"])
        made.append(name)
    return ", ".join(made)


def _check_cgroups(paths: Paths) -> str:
    from runtime.hostinfo import cgroup_controllers, cgroup_mode

    present = cgroup_controllers()
    needed = {"memory", "pids", "cpu", "cpuset"}
    if cgroup_mode() != "v2":
        needed |= {"freezer", "devices"}
    missing = sorted(needed - set(present))
    if missing:
        raise RuntimeError(f"missing controllers: {', '.join(missing)} (mode {cgroup_mode()})")
    return f"mode {cgroup_mode()}: {', '.join(present)}"


def _check_oci_runtime(paths: Paths) -> str:
    from runtime.oci.probe import choose_runtime, probe_runtimes

    chosen = choose_runtime(paths)
    others = [
        f"{r.name} {r.version} unusable ({r.reason})" for r in probe_runtimes(paths) if not r.usable
    ]
    detail = f"{chosen.name} {chosen.version} ran a container"
    return detail + (f"; {'; '.join(others)}" if others else "")


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip() or f'exit {proc.returncode}'}")
