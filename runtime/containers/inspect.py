"""Docker's ``inspect`` JSON for a container (Engine API 1.41's ContainerJSON).

Every key Docker always prints is here, in Docker's order, with the value
Docker gives when a flag was not used (``ShmSize`` 64 MiB, ``IpcMode``
"private", ``NetworkMode`` "default", ...): scripts read these keys by name.
"""

from __future__ import annotations

from typing import Any

from runtime.containers import links
from runtime.containers.cgroups import cgroup_mode
from runtime.containers.model import Container, ContainerSpec, parse_device
from runtime.containers.ociconfig import cgroupns_mode
from runtime.timefmt import go_time

ZERO_TIME = "0001-01-01T00:00:00Z"
#: Docker's /dev/shm size when --shm-size is not given
DEFAULT_SHM_SIZE = 64 * 1024 * 1024


def state_json(c: Container, health: dict | None = None) -> dict:
    state = {
        "Status": c.status,
        # as Docker: a container waiting for its policy's restart counts as running
        "Running": c.status in ("running", "paused", "restarting"),
        "Paused": c.status == "paused",
        "Restarting": c.status == "restarting",
        "OOMKilled": c.oom_killed,
        "Dead": c.status == "dead",
        "Pid": c.pid if c.running else 0,
        "ExitCode": c.exit_code,
        "Error": c.error,
        "StartedAt": go_time(c.started_at) or ZERO_TIME,
        "FinishedAt": go_time(c.finished_at) or ZERO_TIME,
    }
    if health is not None:
        state["Health"] = health
    return state


def port_bindings(spec: ContainerSpec) -> dict[str, list[dict]]:
    """Docker's HostConfig.PortBindings: the ``-p`` flags as given (a host port left to
    pick is "", as Docker keeps it; the port chosen is in NetworkSettings.Ports)."""
    from runtime.network.ports import parse_publish

    out: dict[str, list[dict]] = {}
    for flag in spec.ports:
        for req in parse_publish(flag):
            out.setdefault(f"{req.ctr_port}/{req.proto}", []).append(
                {"HostIp": req.host_ip, "HostPort": str(req.host_port) if req.host_port else ""}
            )
    return out


def ulimits_json(spec: ContainerSpec) -> list[dict] | None:
    from runtime.containers.config import parse_ulimit

    out = []
    for text in spec.ulimits:
        name, soft, hard = parse_ulimit(text)
        out.append({"Name": name, "Hard": hard, "Soft": soft})
    return out or None


def mounts_json(spec: ContainerSpec) -> list[dict] | None:
    """Docker's HostConfig.Mounts: the ``--mount`` flags (``-v`` goes to Binds)."""
    from runtime.containers.model import parse_size
    from runtime.volumes.specs import parse_mount_flag

    out = []
    for text in spec.mounts:
        req = parse_mount_flag(text)
        entry: dict[str, Any] = {"Type": req.type}
        if req.source:
            entry["Source"] = req.source
        entry["Target"] = req.destination
        if req.readonly:
            entry["ReadOnly"] = True
        if req.propagation:
            entry["BindOptions"] = {"Propagation": req.propagation}
        if req.nocopy:
            entry["VolumeOptions"] = {"NoCopy": True}
        if req.type == "tmpfs":
            fields = dict(item.partition("=")[::2] for item in text.split(","))
            tmpfs: dict[str, int] = {}
            if fields.get("tmpfs-size"):
                tmpfs["SizeBytes"] = parse_size(fields["tmpfs-size"], "tmpfs-size")
            if fields.get("tmpfs-mode"):
                tmpfs["Mode"] = int(fields["tmpfs-mode"], 8)
            if tmpfs:
                entry["TmpfsOptions"] = tmpfs
        out.append(entry)
    return out or None


def host_config_json(c: Container) -> dict:
    from runtime.agent.restarts import parse_policy
    from runtime.oci.spec import MASKED_PATHS, READONLY_PATHS

    s = c.spec
    policy = parse_policy(s.restart)
    return {
        "Binds": s.volumes or None,
        "ContainerIDFile": s.cidfile,
        "LogConfig": {"Type": s.log_driver or "json-file", "Config": dict(s.log_opts)},
        "NetworkMode": s.network or "default",
        "PortBindings": port_bindings(s),
        "RestartPolicy": {"Name": policy.name, "MaximumRetryCount": policy.max_retries},
        "AutoRemove": s.auto_remove,
        "VolumeDriver": "",
        "VolumesFrom": s.volumes_from or None,
        "CapAdd": s.cap_add or None,
        "CapDrop": s.cap_drop or None,
        "CgroupnsMode": cgroupns_mode(s.cgroupns, cgroup_mode() == "v2"),
        "Dns": s.dns,
        "DnsOptions": s.dns_options,
        "DnsSearch": s.dns_search,
        "ExtraHosts": s.add_hosts or None,
        "GroupAdd": s.group_add or None,
        "IpcMode": s.ipc_mode or "private",
        "Cgroup": "",
        "Links": None,  # inspect_json fills it: it needs the linked names
        "OomScoreAdj": s.oom_score_adj or 0,
        "PidMode": s.pid_mode,
        "Privileged": s.privileged,
        "PublishAllPorts": s.publish_all,
        "ReadonlyRootfs": s.read_only,
        "SecurityOpt": s.security_opt or None,
        # Tmpfs, Sysctls, Init and Mounts: left out when empty, as Docker's JSON does
        **({"Tmpfs": dict(t.partition(":")[::2] for t in s.tmpfs)} if s.tmpfs else {}),
        "UTSMode": s.uts_mode,
        "UsernsMode": "" if s.userns in ("", "host") else s.userns,
        "ShmSize": s.shm_size or DEFAULT_SHM_SIZE,
        **({"Sysctls": s.sysctls} if s.sysctls else {}),
        "Runtime": c.runtime or "runc",
        "ConsoleSize": [0, 0],
        **({"Init": True} if s.init else {}),
        "Isolation": "",
        "CpuShares": s.cpu_shares,
        "Memory": s.memory,
        "NanoCpus": int(s.cpus * 1e9),
        "CgroupParent": s.cgroup_parent,
        "BlkioWeight": s.blkio_weight,
        "BlkioWeightDevice": [],
        "BlkioDeviceReadBps": _rates(s.device_read_bps),
        "BlkioDeviceWriteBps": _rates(s.device_write_bps),
        "BlkioDeviceReadIOps": None,
        "BlkioDeviceWriteIOps": None,
        "CpuPeriod": s.cpu_period,
        "CpuQuota": s.cpu_quota,
        "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0,
        "CpusetCpus": s.cpuset_cpus,
        "CpusetMems": s.cpuset_mems,
        "Devices": [
            dict(
                zip(
                    ("PathOnHost", "PathInContainer", "CgroupPermissions"),
                    parse_device(d),
                    strict=True,
                )
            )
            for d in s.devices
        ],
        "DeviceCgroupRules": None,
        "DeviceRequests": None,
        "KernelMemory": 0,
        "KernelMemoryTCP": 0,
        "MemoryReservation": s.memory_reservation,
        "MemorySwap": s.memory_swap if s.memory_swap else (2 * s.memory if s.memory > 0 else 0),
        "MemorySwappiness": s.memory_swappiness,
        "OomKillDisable": s.oom_kill_disable,
        "PidsLimit": s.pids_limit or None,
        "Ulimits": ulimits_json(s),
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        **({"Mounts": mounts_json(s)} if s.mounts else {}),
        "MaskedPaths": None if s.privileged else list(MASKED_PATHS),
        "ReadonlyPaths": None if s.privileged else list(READONLY_PATHS),
    }


def _rates(items: list[str]) -> list[dict] | None:
    """``--device-read-bps /dev/sda:1mb`` as Docker's ThrottleDevice records."""
    from runtime.containers.model import parse_size

    out = []
    for item in items:
        path, _, rate = item.rpartition(":")
        out.append({"Path": path, "Rate": parse_size(rate, "device rate")})
    return out or None


def inspect_json(
    manager: Any,
    c: Container,
    mounts: list[dict],
    settings: dict,
    sizes: tuple[int, int] | None = None,
) -> dict:
    """Return the container's record in the shape ``docker inspect`` prints
    (with ``sizes``, SizeRw and SizeRootFs as ``inspect -s`` adds them)."""
    base = manager.dir(c.id)
    # Docker's JSON leaves these out when empty (templates still see them: the formatter)
    config = {
        k: v
        for k, v in c.config.items()
        if v is not None or k not in ("ExposedPorts", "Healthcheck", "StopSignal")
    }
    argv = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    out: dict[str, Any] = {
        "Id": c.id,
        "Created": go_time(c.created),
        "Path": (argv or [""])[0],
        "Args": argv[1:],
        "State": state_json(c, manager.records.health(c.id)),
        "Image": c.image_id,
        "ResolvConfPath": str(base / "resolv.conf"),
        "HostnamePath": str(base / "hostname"),
        "HostsPath": str(base / "hosts"),
        "LogPath": "" if c.spec.log_driver == "none" else str(base / "json.log"),
        "Name": "/" + c.name,
        "RestartCount": c.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": {**host_config_json(c), "Links": links.shown(manager, c)},
        "GraphDriver": {
            "Data": {
                "MergedDir": str(manager.run_dir(c.id) / "rootfs"),
                "UpperDir": str(base / "upper"),
                "WorkDir": str(base / "work"),
            },
            "Name": "overlay2",
        },
    }
    if sizes is not None:
        out["SizeRw"], out["SizeRootFs"] = sizes
    out["Mounts"] = mounts
    out["Config"] = config
    out["NetworkSettings"] = settings or {
        "Networks": {},
        "Ports": {},
        "IPAddress": "",
        "SandboxKey": "",
    }
    return out
