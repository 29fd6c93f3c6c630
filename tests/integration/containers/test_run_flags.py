"""The ``run``/``create`` flags people use, each seen taking effect inside the container
(its cgroup files, /etc/hosts, /proc) and in ``inspect``, as Docker's."""

from __future__ import annotations

import json
import time
from pathlib import Path

from runtime.containers.cgroups import cgroup_mode


def inspect(wharf, name: str) -> dict:
    return json.loads(wharf("inspect", name).stdout)[0]


def test_memory_swappiness_oom_kill_disable_and_cpuset_mems_reach_the_cgroup(wharf):
    assert cgroup_mode() != "v2", "this test reads cgroup v1 files; the host runs cgroup v2"
    out = wharf(
        "run", "--name", "tuned", "-m", "64m", "--oom-kill-disable", "--memory-swappiness", "7",
        "--cpuset-mems", "0", "busybox", "sh", "-c",
        "cat /sys/fs/cgroup/memory/memory.swappiness;"
        " grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control;"
        " cat /sys/fs/cgroup/cpuset/cpuset.mems",
    ).stdout  # fmt: skip
    assert out == "7\noom_kill_disable 1\n0\n"
    host = inspect(wharf, "tuned")["HostConfig"]
    assert (host["MemorySwappiness"], host["OomKillDisable"], host["CpusetMems"]) == (7, True, "0")
    # Docker's -1 is the host's swappiness: no value of the container's own
    wharf("create", "--name", "hosts", "--memory-swappiness", "-1", "busybox")
    assert inspect(wharf, "hosts")["HostConfig"]["MemorySwappiness"] is None
    bad = wharf("create", "--memory-swappiness", "101", "busybox", check=False)
    assert bad.returncode == 125
    assert "Invalid value: 101, valid memory swappiness range is 0-100" in bad.stderr


def test_cidfile_gets_the_id_and_an_existing_one_is_refused(wharf, tmp_path):
    cidfile = tmp_path / "cid"
    cid = wharf("create", "--cidfile", str(cidfile), "busybox").stdout.strip()
    assert cidfile.read_text() == cid  # no new line, as Docker writes it
    assert inspect(wharf, cid)["HostConfig"]["ContainerIDFile"] == str(cidfile)
    before = wharf("ps", "-aq").stdout
    again = wharf("run", "--cidfile", str(cidfile), "busybox", "true", check=False)
    assert again.returncode == 125
    assert again.stderr == (
        "wharf: Container ID file found, make sure the other container isn't running or "
        f"delete {cidfile}.\nSee 'wharf run --help'.\n"
    )
    assert wharf("ps", "-aq").stdout == before, "nothing half-made"


def test_label_file_labels_come_before_the_flags(wharf, tmp_path):
    labels = Path(tmp_path / "labels")
    labels.write_text("# the team\nteam=a\n\nb=2\n")
    wharf("create", "--name", "lab", "--label-file", str(labels), "-l", "b=3", "busybox")
    assert inspect(wharf, "lab")["Config"]["Labels"] == {"team": "a", "b": "3"}
    missing = wharf("create", "--label-file", str(tmp_path / "nope"), "busybox", check=False)
    assert missing.returncode == 125 and "nope" in missing.stderr


def _ns(pid: int | str, kind: str) -> str:
    return Path(f"/proc/{pid}/ns/{kind}").readlink().as_posix()


def test_pid_ipc_and_uts_of_the_host(wharf):
    import socket

    out = wharf(
        "run", "--name", "hostly", "--pid", "host", "--ipc", "host", "--uts", "host", "busybox",
        "sh", "-c", "for k in pid ipc uts; do readlink /proc/self/ns/$k; done; hostname",
    ).stdout.split()  # fmt: skip
    me = "self"  # this test runs in the host's namespaces
    assert out == [_ns(me, "pid"), _ns(me, "ipc"), _ns(me, "uts"), socket.gethostname()]
    host = inspect(wharf, "hostly")["HostConfig"]
    assert (host["PidMode"], host["IpcMode"], host["UTSMode"]) == ("host", "host", "host")
    conflict = wharf("create", "--uts", "host", "-h", "x", "busybox", check=False)
    assert conflict.returncode == 125
    assert "Conflicting options: hostname and the UTS mode" in conflict.stderr
    bad = wharf("create", "--pid", "nope", "busybox", check=False)
    assert bad.returncode == 125 and "--pid" in bad.stderr


def test_pid_and_ipc_of_another_container(wharf, wait_log):
    donor = wharf(
        "run", "-d", "--name", "donor", "--ipc", "shareable", "busybox", "sh", "-c",
        "echo ready; exec sleep 60",
    ).stdout.strip()  # fmt: skip
    wait_log(donor)
    pid = inspect(wharf, "donor")["State"]["Pid"]
    out = wharf(
        "run", "--rm", "--pid", "container:donor", "--ipc", "container:donor", "busybox", "sh",
        "-c", "for k in pid ipc; do readlink /proc/self/ns/$k; done; cat /proc/1/cmdline",
    ).stdout  # fmt: skip
    assert out.split("\n")[:2] == [_ns(pid, "pid"), _ns(pid, "ipc")]
    assert out.split("\n")[2].startswith("sleep")
    # as Docker 20.10: only a shareable container's IPC can be joined
    wharf("run", "-d", "--name", "private", "busybox", "sleep", "60")
    refused = wharf("run", "--ipc", "container:private", "busybox", "true", check=False)
    assert refused.returncode != 0
    assert "non-shareable IPC (hint: use IpcMode:shareable for the donor container)" in (
        refused.stderr
    )
    wharf("rm", "-f", "donor", "private")


def test_a_shareable_donor_s_dev_shm_is_shared(wharf, wharf_paths):
    donor = wharf("run", "-d", "--name", "shmdonor", "--ipc", "shareable", "--shm-size", "8m",
                  "--network", "none", "busybox", "sleep", "300").stdout.strip()  # fmt: skip
    wharf("exec", "shmdonor", "sh", "-c", "echo from-donor > /dev/shm/note")
    out = wharf("run", "--rm", "--ipc", "container:shmdonor", "--network", "none", "busybox",
                "sh", "-c", "cat /dev/shm/note; echo from-joiner > /dev/shm/back; "
                "df -k /dev/shm | tail -1").stdout.splitlines()  # fmt: skip
    assert out[0] == "from-donor"
    assert out[1].split()[1] == "8192", out  # the donor's tmpfs, its --shm-size
    assert wharf("exec", "shmdonor", "cat", "/dev/shm/back").stdout == "from-joiner\n"
    host_shm = wharf_paths.run / "containers" / donor / "shm"
    wharf("stop", "-t", "1", "shmdonor")
    # whoever records the exit unmounts it, just after the stop may have returned
    deadline = time.monotonic() + 30
    while str(host_shm) in Path("/proc/self/mountinfo").read_text():
        assert time.monotonic() < deadline, "the donor's /dev/shm stayed mounted"
        time.sleep(0.05)
    wharf("rm", "shmdonor")


def test_ipc_none_has_no_dev_shm(wharf):
    out = wharf("run", "--ipc", "none", "busybox", "sh", "-c", "ls -d /dev/shm", check=False)
    assert out.returncode == 1 and "No such file or directory" in out.stderr


def test_platform_of_the_host_is_accepted_and_another_refused(wharf):
    from runtime.images.store import host_platform

    os_name, arch, _ = host_platform()
    assert (
        wharf("run", "--rm", "--platform", f"{os_name}/{arch}", "busybox", "echo", "ok").stdout
        == "ok\n"
    )
    other = "linux/s390x" if arch != "s390x" else "linux/amd64"
    before = wharf("ps", "-aq").stdout
    refused = wharf("run", "--platform", other, "busybox", "true", check=False)
    assert refused.returncode == 125
    assert f"platform {other} is not this host's ({os_name}/{arch}" in refused.stderr
    assert wharf("ps", "-aq").stdout == before, "nothing half-made"


def test_device_is_made_and_allowed_with_its_permissions(wharf):
    # a device outside runc's always-allowed ones (/dev/null, /dev/zero, ...), so the
    # cgroup rule made for "r" is the one that decides
    assert Path("/dev/loop-control").exists(), "this test needs the host's /dev/loop-control"
    out = wharf(
        "run", "--name", "dev", "--device", "/dev/loop-control:/dev/lc:r", "busybox", "sh", "-c",
        "ls -l /dev/lc; head -c 1 /dev/lc; echo x > /dev/lc && echo wrote",
        check=False,
    )  # fmt: skip
    assert out.stdout.startswith("crw") and " 10, 237 " in out.stdout, out.stdout
    # opened for reading (the driver answers EIO); writing is not allowed by the cgroup
    assert "head: /dev/lc: Input/output error" in out.stderr
    assert "wrote" not in out.stdout and "Operation not permitted" in out.stderr
    assert inspect(wharf, "dev")["HostConfig"]["Devices"] == [
        {"PathOnHost": "/dev/loop-control", "PathInContainer": "/dev/lc", "CgroupPermissions": "r"}
    ]
    missing = wharf("create", "--device", "/dev/nosuch", "busybox", check=False)
    assert missing.returncode == 125
    assert "error gathering device information while adding custom device" in missing.stderr


def test_cgroupns_private_hides_the_hosts_cgroup_paths(wharf):
    assert cgroup_mode() != "v2", "this test expects cgroup v1's default (host)"
    own = wharf(
        "run", "--name", "own", "--cgroupns", "private", "busybox", "sh", "-c",
        "grep :memory: /proc/self/cgroup; readlink /proc/self/ns/cgroup",
    ).stdout.split()  # fmt: skip
    assert own[0].endswith(":memory:/") and own[1] != _ns("self", "cgroup")
    hosts = wharf("run", "--name", "hosts", "busybox", "grep", ":memory:", "/proc/self/cgroup")
    assert "/wharf/" in hosts.stdout  # Docker 20.10's default on cgroup v1: the host's
    assert inspect(wharf, "own")["HostConfig"]["CgroupnsMode"] == "private"
    assert inspect(wharf, "hosts")["HostConfig"]["CgroupnsMode"] == "host"
    bad = wharf("create", "--cgroupns", "shared", "busybox", check=False)
    assert bad.returncode == 125 and "--cgroupns" in bad.stderr


def test_mac_address_is_the_interfaces(wharf):
    wharf(
        "run", "-d", "--name", "mac", "--mac-address", "02:42:AC:11:00:99", "busybox", "sleep", "60"
    )
    assert (
        wharf("exec", "mac", "cat", "/sys/class/net/eth0/address").stdout == "02:42:ac:11:00:99\n"
    )
    info = inspect(wharf, "mac")
    assert info["Config"]["MacAddress"] == "02:42:AC:11:00:99"  # as given, as Docker keeps it
    assert info["NetworkSettings"]["Networks"]["bridge"]["MacAddress"] == "02:42:ac:11:00:99"
    bad = wharf("create", "--mac-address", "02:42", "busybox", check=False)
    assert bad.returncode == 125 and "02:42 is not a valid mac address" in bad.stderr
    wharf("rm", "-f", "mac")


def test_log_driver_none_keeps_no_log_and_json_file_is_the_default(wharf):
    assert (
        wharf("run", "--name", "quiet", "--log-driver", "none", "busybox", "echo", "hi").stdout
        == "hi\n"
    )
    info = inspect(wharf, "quiet")
    assert info["HostConfig"]["LogConfig"] == {"Type": "none", "Config": {}}
    assert info["LogPath"] == ""
    refused = wharf("logs", "quiet", check=False)
    assert refused.returncode == 1
    assert "configured logging driver does not support reading" in refused.stderr
    wharf(
        "run",
        "--name",
        "kept",
        "--log-driver",
        "json-file",
        "--log-opt",
        "max-size=1m",
        "busybox",
        "echo",
        "hi",
    )
    assert wharf("logs", "kept").stdout == "hi\n"
    assert inspect(wharf, "kept")["HostConfig"]["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-size": "1m"},
    }
    other = wharf("create", "--log-driver", "syslog", "busybox", check=False)
    assert other.returncode == 125 and "no log driver named 'syslog'" in other.stderr


def test_attach_selects_the_streams_shown(wharf):
    both = "echo out; echo err >&2"
    only_err = wharf(
        "run", "--rm", "--network", "none", "-a", "stderr", "busybox", "sh", "-c", both
    )
    assert (only_err.stdout, only_err.stderr) == ("", "err\n")
    only_out = wharf(
        "run", "--rm", "--network", "none", "-a", "stdout", "busybox", "sh", "-c", both
    )
    assert (only_out.stdout, only_out.stderr) == ("out\n", "")
    wharf("create", "--name", "picky", "--network", "none", "-a", "stderr", "busybox", "sh", "-c",
          both)  # fmt: skip
    started = wharf("start", "-a", "picky")
    assert (started.stdout, started.stderr) == ("", "err\n")
