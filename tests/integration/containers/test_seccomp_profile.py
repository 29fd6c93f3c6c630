"""Docker's default seccomp profile, with its capability-conditional rules, from inside a container.

A small static C program (``probes/syscalls.c``) makes each call with arguments
that fail harmlessly when the filter lets them through (a bad fd, a missing
path), so the filter's EPERM is told apart from the kernel's own answer. The
same program unconfined shows that each refusal is the profile's doing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

PROBE_C = Path(__file__).with_name("probes") / "syscalls.c"

# What Docker's profile refuses to a container with Docker's default capabilities.
REFUSED = {
    "clone_newuser": "EPERM",
    "clone3": "ENOSYS",
    "setns": "EPERM",
    "keyctl": "EPERM",
    "pidfd_getfd": "EPERM",
    "syslog": "EPERM",
    "reboot": "EPERM",
    "socket_vsock": "EPERM",
    "socket_alg": "EPERM",
    "mount": "EPERM",
    "fsopen": "EPERM",
    "open_tree": "EPERM",
    "move_mount": "EPERM",
    "fsmount": "EPERM",
    "pivot_root": "EPERM",
    "unshare": "EPERM",
}


@pytest.fixture(scope="module")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("probe") / "syscalls"
    proc = subprocess.run(
        ["gcc", "-static", "-O2", "-Wall", "-o", str(out), str(PROBE_C)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        pytest.fail(f"cannot build the syscall probe (gcc -static): {proc.stderr}", False)
    return out


@pytest.fixture
def probe(wharf, wharf_paths, probe_binary):
    """Run the probe in a fresh container with extra ``run`` flags; return {call: result}."""
    binds = wharf_paths.root / "binds" / "probe"
    binds.mkdir(parents=True)
    (binds / "syscalls").write_bytes(probe_binary.read_bytes())
    (binds / "syscalls").chmod(0o755)

    def run(*flags: str) -> dict[str, str]:
        out = wharf(
            "run", "--rm", "-v", f"{binds}:/probe:ro", *flags, "busybox", "/probe/syscalls"
        ).stdout
        return dict(line.split(" ", 1) for line in out.splitlines())

    return run


def test_dockers_profile_refuses_namespaces_mounts_keyring_and_vsock(probe):
    results = probe()
    refused = {name: results.get(name) for name in REFUSED}
    assert refused == REFUSED
    assert results["socket_inet"] == "ok" and results["socket_unix"] == "ok"
    assert not any(name.startswith("nested_") for name in results), "a nested namespace was made"


def test_each_refusal_is_the_profiles_doing(probe):
    """Unconfined, the same calls reach the kernel: the user namespace gives a full set."""
    results = probe("--security-opt", "seccomp=unconfined")
    assert results["unshare"] == "ok" and results["clone_newuser"] == "ok"
    assert results["setns"] == "EBADF" and results["pidfd_getfd"] == "EBADF"
    assert results["clone3"] == "EINVAL" and results["open_tree"] == "ENOENT"
    assert results["keyctl"] == "ok"
    assert results["nested_fsopen"] == "ok" and results["nested_mount"] == "ENOENT"


def test_rules_follow_the_granted_capabilities(probe):
    """CAP_SYS_ADMIN opens the mount family and unshare, as in Docker; keyctl stays shut."""
    results = probe("--cap-add", "SYS_ADMIN")
    assert results["unshare"] == "ok" and results["fsopen"] == "ok"
    assert results["mount"] == "ENOENT" and results["setns"] == "EBADF"
    assert results["keyctl"] == "EPERM" and results["socket_vsock"] == "EPERM"
    assert results["pidfd_getfd"] == "EPERM"  # needs CAP_SYS_PTRACE
    ptrace = probe("--cap-add", "SYS_PTRACE")
    assert ptrace["pidfd_getfd"] == "EBADF" and ptrace["unshare"] == "EPERM"


def test_busybox_unshare_gets_no_capabilities(wharf):
    proc = wharf("run", "--rm", "busybox", "unshare", "-Urm", "id", check=False)
    assert proc.returncode != 0 and "Operation not permitted" in proc.stderr


def test_a_profile_file_is_used_as_given(wharf, wharf_paths, tmp_path):
    """``--security-opt seccomp=FILE``: a profile allowing everything lets unshare through."""
    profile = tmp_path / "allow.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}')
    proc = wharf(
        "run", "--rm", "--security-opt", f"seccomp={profile}", "busybox", "unshare", "-Ur", "id"
    )
    assert proc.stdout.startswith("uid=0(root)")
