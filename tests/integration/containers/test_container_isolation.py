"""Isolation by default: capabilities, seccomp, masked and read-only paths, namespaces."""

from __future__ import annotations

import os
from pathlib import Path

DOCKER_DEFAULT_CAPS = "00000000a80425fb"


def _status(wharf, *flags: str) -> dict[str, str]:
    out = wharf("run", "--rm", *flags, "busybox", "cat", "/proc/self/status").stdout
    return {k: v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def test_default_capabilities_are_dockers_14(wharf):
    status = _status(wharf)
    assert status["CapEff"] == DOCKER_DEFAULT_CAPS
    assert status["CapBnd"] == DOCKER_DEFAULT_CAPS
    assert status["CapPrm"] == DOCKER_DEFAULT_CAPS
    assert status["Seccomp"] == "2"


def test_cap_add_and_cap_drop(wharf):
    status = _status(wharf, "--cap-add", "NET_ADMIN", "--cap-drop", "chown")
    value = int(status["CapBnd"], 16)
    assert value & (1 << 12)  # CAP_NET_ADMIN
    assert not value & 1  # CAP_CHOWN
    assert _status(wharf, "--cap-drop", "ALL")["CapEff"] == "0000000000000000"


def test_privileged_gets_every_capability_and_no_seccomp(wharf):
    status = _status(wharf, "--privileged")
    assert int(status["CapEff"], 16) & (1 << 21)  # CAP_SYS_ADMIN, beyond Docker's default set
    assert status["Seccomp"] == "0"


def test_seccomp_unconfined_and_no_new_privileges(wharf):
    status = _status(
        wharf, "--security-opt", "seccomp=unconfined", "--security-opt", "no-new-privileges"
    )
    assert status["Seccomp"] == "0"
    assert status["NoNewPrivs"] == "1"


def test_masked_paths_read_empty_and_proc_sys_is_read_only(wharf):
    from runtime.oci.spec import MASKED_PATHS

    present = [p for p in MASKED_PATHS if os.path.exists(p)]
    assert present, "the host has none of Docker's masked paths to check"
    script = "; ".join(
        f"echo $(cat {p} 2>/dev/null | wc -c) $(ls {p} 2>/dev/null | wc -l)" for p in present
    )
    script += "; (echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo writable || echo ro"
    lines = wharf("run", "--rm", "busybox", "sh", "-c", script).stdout.splitlines()
    assert lines[-1] == "ro"
    for path, line in zip(present, lines, strict=False):
        assert line in ("0 0", "0 1"), f"{path} is not masked: {line}"


def test_mount_is_refused(wharf):
    out = wharf(
        "run", "--rm", "busybox", "sh", "-c", "mkdir /m; mount -t tmpfs none /m", check=False
    )
    assert out.returncode != 0
    assert "denied" in out.stderr or "not permitted" in out.stderr


def test_namespaces_differ_from_the_host(wharf):
    out = wharf(
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "for n in pid net mnt uts ipc; do readlink /proc/1/ns/$n; done",
    )
    host = [os.readlink(f"/proc/self/ns/{n}") for n in ("pid", "net", "mnt", "uts", "ipc")]
    inside = out.stdout.split()
    assert len(inside) == 5
    assert all(a != b for a, b in zip(inside, host, strict=True))


def test_read_only_rootfs_refuses_writes(wharf):
    out = wharf("run", "--rm", "--read-only", "busybox", "sh", "-c", "touch /x", check=False)
    assert out.returncode != 0 and "Read-only file system" in out.stderr


def test_devices_are_dockers_defaults(wharf):
    out = wharf("run", "--rm", "busybox", "sh", "-c", "ls /dev; head -c 4 /dev/urandom | wc -c")
    names = out.stdout.split()
    for dev in ("null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue"):
        assert dev in names
    assert "sda" not in names and names[-1] == "4"


def test_nofile_limit_is_clamped_to_the_host(wharf):
    out = wharf("run", "--rm", "busybox", "sh", "-c", "ulimit -Hn")
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert int(out.stdout) <= hard


def test_a_private_user_namespace_maps_root_to_an_unprivileged_host_uid(wharf, wharf_paths):
    from runtime.oci.spec import subordinate_range

    wharf_paths.root.parent.chmod(0o711)  # the test's temp dir is 0700: the mapped root must pass

    first, _count = subordinate_range()
    cid = wharf("run", "-d", "--userns", "private", "busybox", "sleep", "30").stdout.strip()
    import json

    pid = json.loads(wharf("inspect", cid).stdout)[0]["State"]["Pid"]
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    uid_line = [ln for ln in status if ln.startswith("Uid:")][0]
    assert uid_line.split()[1] == str(first)  # root inside, an unprivileged uid outside
    assert wharf("exec", cid, "id", "-u").stdout == "0\n"


def test_exec_privileged_gets_more_than_the_default_set(wharf):
    cid = wharf("run", "-d", "busybox", "sleep", "30").stdout.strip()
    plain = wharf("exec", cid, "grep", "CapEff", "/proc/self/status").stdout.split()[1]
    privileged = wharf(
        "exec", "--privileged", cid, "grep", "CapEff", "/proc/self/status"
    ).stdout.split()[1]
    assert plain == DOCKER_DEFAULT_CAPS
    assert int(privileged, 16) & (1 << 21)  # CAP_SYS_ADMIN
