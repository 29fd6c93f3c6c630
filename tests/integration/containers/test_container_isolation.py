"""Isolation by default: capabilities, seccomp, masked and read-only paths, namespaces."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

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


def test_host_network_keeps_a_private_uts_namespace(wharf):
    """Even with CAP_SYS_ADMIN on the host's network, renaming is the container's own affair."""
    before = socket.gethostname()
    out = wharf(
        "run",
        "--rm",
        "--network",
        "host",
        "--cap-add",
        "SYS_ADMIN",
        "busybox",
        "sh",
        "-c",
        "hostname; hostname wharf-renamed-the-host; hostname; readlink /proc/self/ns/uts",
    ).stdout.split()
    assert out[0] == before and out[1] == "wharf-renamed-the-host"
    assert out[2] != os.readlink("/proc/self/ns/uts")
    assert socket.gethostname() == before


def test_the_cgroup_tmpfs_is_read_only(wharf):
    out = wharf(
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "grep ' /sys/fs/cgroup ' /proc/mounts; mkdir /sys/fs/cgroup/x 2>&1; touch /sys/fs/cgroup/y 2>&1;"
        " ls /sys/fs/cgroup",
    ).stdout
    mount_line = out.splitlines()[0].split()
    assert mount_line[3].split(",")[0] == "ro", mount_line
    assert out.count("Read-only file system") == 2
    assert "x" not in out.split() and "y" not in out.split()
    assert "memory" in out.split()  # the controllers are still there to read


def test_privileged_keeps_a_writable_cgroup_tmpfs(wharf):
    out = wharf(
        "run", "--rm", "--privileged", "busybox", "grep", " /sys/fs/cgroup ", "/proc/mounts"
    )
    assert out.stdout.split()[3].startswith("rw")


@pytest.mark.parametrize(
    "flag, value, error",
    [
        ("--hostname", "good\n10.9.9.9 injected", "invalid hostname format"),
        ("--hostname", "a" * 64, "invalid hostname format"),
        ("--hostname", "-leading", "invalid hostname format"),
        ("--add-host", "evil\n10.9.9.9 injected:10.0.0.1", "bad format for add-host"),
        ("--add-host", "name with space:10.0.0.1", "bad format for add-host"),
        ("--add-host", "x:fe80::1%eth0\n10.9.9.9 injected", "invalid IP address in add-host"),
        ("--add-host", "x:10.0.0.1\n10.9.9.9 injected", "invalid IP address in add-host"),
        ("--dns-search", "a.example\nnameserver 10.9.9.9", "invalid --dns-search"),
        ("--dns-option", "ndots:1\nnameserver 10.9.9.9", "invalid --dns-option"),
    ],
)
def test_new_lines_cannot_reach_the_etc_files(wharf, flag, value, error):
    proc = wharf("run", "--rm", f"{flag}={value}", "busybox", "cat", "/etc/hosts", check=False)
    assert proc.returncode == 125 and error in proc.stderr
    assert "injected" not in proc.stdout
    assert wharf("ps", "-aq").stdout == ""  # nothing was made


def test_good_host_entries_still_work(wharf):
    out = wharf(
        "run",
        "--rm",
        "--hostname",
        "web-1.example",
        "--add-host",
        "db_main:10.1.2.3",
        "--add-host",
        "v6:[::1]",
        "busybox",
        "sh",
        "-c",
        "hostname; cat /etc/hosts",
    ).stdout
    assert out.splitlines()[0] == "web-1.example"
    assert "10.1.2.3\tdb_main" in out and "::1\tv6" in out
