"""``inspect`` in Docker's shapes (Engine API 1.41's ContainerJSON), for real containers.

The expected values are what Docker 20.10 prints for the same commands, written here.
"""

from __future__ import annotations

import json
import re

from runtime.timefmt import rfc3339_ns

#: HostConfig keys Docker 20.10 always prints, in its order
HOST_CONFIG_KEYS = [
    "Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings", "RestartPolicy",
    "AutoRemove", "VolumeDriver", "VolumesFrom", "CapAdd", "CapDrop", "CgroupnsMode", "Dns",
    "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd", "IpcMode", "Cgroup", "Links",
    "OomScoreAdj", "PidMode", "Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt",
    "UTSMode", "UsernsMode", "ShmSize", "Runtime", "ConsoleSize", "Isolation", "CpuShares",
    "Memory", "NanoCpus", "CgroupParent", "BlkioWeight", "BlkioWeightDevice",
    "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps",
    "CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetCpus",
    "CpusetMems", "Devices", "DeviceCgroupRules", "DeviceRequests", "KernelMemory",
    "KernelMemoryTCP", "MemoryReservation", "MemorySwap", "MemorySwappiness", "OomKillDisable",
    "PidsLimit", "Ulimits", "CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth",
    "MaskedPaths", "ReadonlyPaths",
]  # fmt: skip
#: Go's RFC3339Nano: no trailing zeros in the fraction
GO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z")


def inspect(wharf, *args: str) -> dict:
    return json.loads(wharf("inspect", *args).stdout)[0]


def test_a_detached_run_with_ports_ulimits_caps_and_env_as_docker(wharf, wharf_paths):
    binds = wharf_paths.root / "binds"
    binds.mkdir(exist_ok=True)
    wharf(
        "run", "-d", "--name", "web", "-p", "28081:80", "-p", "127.0.0.1::53/udp",
        "--ulimit", "nofile=100:200", "--cap-add", "net_admin", "-e", "FOO=1",
        "--mount", "type=tmpfs,target=/scratch,tmpfs-size=1m",
        "--mount", f"type=bind,source={binds},target=/host,readonly",
        "busybox", "sleep", "60",
    )  # fmt: skip
    info = inspect(wharf, "web")
    host = info["HostConfig"]
    assert list(host) == HOST_CONFIG_KEYS[:-2] + ["Mounts"] + HOST_CONFIG_KEYS[-2:]
    assert host["NetworkMode"] == "default"
    assert host["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": "28081"}],
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
    }
    assert host["Ulimits"] == [{"Name": "nofile", "Hard": 200, "Soft": 100}]
    assert host["CapAdd"] == ["net_admin"]  # the names as given
    assert host["LogConfig"] == {"Type": "json-file", "Config": {}}
    assert host["ShmSize"] == 67108864 and host["IpcMode"] == "private"
    assert host["PidMode"] == host["UTSMode"] == host["UsernsMode"] == host["CgroupParent"] == ""
    assert host["OomKillDisable"] is False and host["MemorySwappiness"] is None
    assert host["Devices"] == [] and host["Links"] is None and host["GroupAdd"] is None
    assert "/proc/kcore" in host["MaskedPaths"] and "/proc/sys" in host["ReadonlyPaths"]
    assert host["Mounts"] == [
        {"Type": "tmpfs", "Target": "/scratch", "TmpfsOptions": {"SizeBytes": 1048576}},
        {"Type": "bind", "Source": str(binds), "Target": "/host", "ReadOnly": True},
    ]
    assert "Tmpfs" not in host and "Sysctls" not in host and "Init" not in host
    config = info["Config"]
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert config["AttachStdin"] is config["AttachStdout"] is config["AttachStderr"] is False
    assert config["Env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "FOO=1",
    ]
    assert "Healthcheck" not in config and "StopSignal" not in config
    assert GO_TIME.fullmatch(info["Created"]) and GO_TIME.fullmatch(info["State"]["StartedAt"])
    assert info["State"]["FinishedAt"] == "0001-01-01T00:00:00Z"
    assert list(info)[:19] == [
        "Id", "Created", "Path", "Args", "State", "Image", "ResolvConfPath", "HostnamePath",
        "HostsPath", "LogPath", "Name", "RestartCount", "Driver", "Platform", "MountLabel",
        "ProcessLabel", "AppArmorProfile", "ExecIDs", "HostConfig",
    ]  # fmt: skip
    # a template still sees the fields Docker's JSON leaves out, as Go's zero values
    out = wharf("inspect", "-f", "{{.Config.StopSignal}}|{{.HostConfig.Tmpfs}}", "web").stdout
    assert out == "|map[]\n"
    wharf("rm", "-f", "web")


def test_an_attached_run_attaches_stdout_and_stderr_or_the_streams_of_a(wharf):
    wharf("create", "--name", "plain", "busybox", "true")
    config = inspect(wharf, "plain")["Config"]
    assert [config[k] for k in ("AttachStdin", "AttachStdout", "AttachStderr")] == [
        False,
        True,
        True,
    ]
    wharf("run", "--name", "a", "-a", "stdout", "-e", "X=1", "busybox", "true")
    config = inspect(wharf, "a")["Config"]
    assert [config[k] for k in ("AttachStdin", "AttachStdout", "AttachStderr")] == [
        False,
        True,
        False,
    ]


def test_inspect_size_adds_sizerw_and_sizerootfs(wharf):
    wharf("run", "--name", "writer", "busybox", "sh", "-c", "head -c 4096 /dev/zero > /big")
    plain = inspect(wharf, "writer")
    assert "SizeRw" not in plain and "SizeRootFs" not in plain
    sized = inspect(wharf, "-s", "writer")
    assert sized["SizeRw"] >= 4096
    assert sized["SizeRootFs"] > sized["SizeRw"]
    assert list(sized).index("SizeRw") == list(sized).index("GraphDriver") + 1


def test_an_image_without_path_keeps_config_env_to_what_was_given(wharf, busybox_rootfs_tar):
    wharf("import", str(busybox_rootfs_tar), "bare")
    out = wharf("run", "--name", "bare1", "-e", "X=1", "bare", "env").stdout
    # the process gets Docker's default PATH; the record holds only what -e gave
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" in out
    assert inspect(wharf, "bare1")["Config"]["Env"] == ["X=1"]


def test_image_inspect_has_graphdriver_last_tag_time_and_the_whole_config(wharf):
    wharf("run", "--name", "src", "busybox", "sh", "-c", "echo x > /f")
    wharf("commit", "src", "layered:1")
    info = inspect(wharf, "layered:1")
    assert list(info) == [
        "Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container",
        "ContainerConfig", "DockerVersion", "Author", "Config", "Architecture", "Os", "Size",
        "VirtualSize", "GraphDriver", "RootFS", "Metadata",
    ]  # fmt: skip
    driver = info["GraphDriver"]
    assert driver["Name"] == "overlay2"
    assert list(driver["Data"]) == ["LowerDir", "MergedDir", "UpperDir", "WorkDir"]
    assert driver["Data"]["UpperDir"].endswith("/diff")
    assert GO_TIME.fullmatch(info["Metadata"]["LastTagTime"])
    # Docker's container.Config: every key that is not omitempty, zero when unset
    assert list(info["Config"]) == [
        "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "Tty",
        "OpenStdin", "StdinOnce", "Env", "Cmd", "Image", "Volumes", "WorkingDir", "Entrypoint",
        "OnBuild", "Labels",
    ]  # fmt: skip
    assert info["Config"]["Cmd"] == ["sh", "-c", "echo x > /f"]
    first = info["Metadata"]["LastTagTime"]
    wharf("tag", "layered:1", "layered:2")
    later = inspect(wharf, "layered:2")["Metadata"]["LastTagTime"]
    assert rfc3339_ns(later) > rfc3339_ns(first)
    assert (
        wharf("inspect", "-f", "{{.Config.StopSignal}}|{{.Config.Healthcheck}}", "layered:1").stdout
        == "|<nil>\n"
    )


def test_network_inspect_of_the_default_bridge_and_of_a_made_one(wharf):
    bridge = json.loads(wharf("network", "inspect", "bridge").stdout)[0]
    assert bridge["IPAM"]["Options"] is None  # as Docker's default bridge
    assert bridge["Options"]["com.docker.network.bridge.default_bridge"] == "true"
    assert bridge["Options"]["com.docker.network.driver.mtu"] == "1500"
    assert GO_TIME.fullmatch(bridge["Created"])
    wharf("network", "create", "made")
    made = json.loads(wharf("network", "inspect", "made").stdout)[0]
    assert made["IPAM"]["Options"] == {}
    assert "com.docker.network.bridge.default_bridge" not in made["Options"]
    wharf("network", "rm", "made")
