"""Docker's container-create body (Config, HostConfig, NetworkingConfig) as a ContainerSpec.

The spec holds Docker's options in the CLI's text forms (``8080:80/tcp``,
``/src:/dst:ro``, ``on-failure:3``), so the API's structured values are
turned into those texts here and checked where the CLI's are: in
``ContainerSpec.validate``, the network and volume parts, and the bind-mount
policy, so a request through the socket is held to the same rules.
"""

from __future__ import annotations

from typing import Any

from runtime.containers.model import ContainerSpec
from runtime.errors import InvalidArgument


def _list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise InvalidArgument(f"invalid {what}: expected a list")
    return [str(v) for v in value]


def _ports(bindings: dict | None) -> list[str]:
    """``{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`` → ``["8080:80/tcp"]``."""
    out = []
    for key, hosts in (bindings or {}).items():
        port = key if "/" in key else f"{key}/tcp"
        for host in hosts or [{}]:
            ip = (host or {}).get("HostIp") or ""
            public = (host or {}).get("HostPort") or ""
            if ip and ":" in ip:
                ip = f"[{ip}]"
            out.append(f"{ip}:{public}:{port}" if ip else f"{public}:{port}" if public else port)
    return out


def _mount(m: dict) -> str:
    """One HostConfig.Mounts entry as ``--mount``'s text."""
    parts = [f"type={m.get('Type') or 'volume'}"]
    if m.get("Source"):
        parts.append(f"source={m['Source']}")
    if not m.get("Target"):
        raise InvalidArgument("invalid mount config: Target must not be empty")
    parts.append(f"target={m['Target']}")
    if m.get("ReadOnly"):
        parts.append("readonly")
    bind = m.get("BindOptions") or {}
    if bind.get("Propagation"):
        parts.append(f"bind-propagation={bind['Propagation']}")
    volume = m.get("VolumeOptions") or {}
    if volume.get("NoCopy"):
        parts.append("volume-nocopy")
    for key, value in (volume.get("Labels") or {}).items():
        parts.append(f"volume-label={key}={value}")
    tmpfs = m.get("TmpfsOptions") or {}
    if tmpfs.get("SizeBytes"):
        parts.append(f"tmpfs-size={tmpfs['SizeBytes']}")
    if tmpfs.get("Mode"):
        parts.append(f"tmpfs-mode={tmpfs['Mode']:o}")
    return ",".join(parts)


def _restart(policy: dict | None) -> str:
    name = (policy or {}).get("Name") or "no"
    retries = (policy or {}).get("MaximumRetryCount") or 0
    return f"{name}:{retries}" if name == "on-failure" and retries else name


def _health(check: dict | None) -> dict | None:
    if not check:
        return None
    return {
        "Test": list(check.get("Test") or []),
        "Interval": int(check.get("Interval") or 0),
        "Timeout": int(check.get("Timeout") or 0),
        "StartPeriod": int(check.get("StartPeriod") or 0),
        "Retries": int(check.get("Retries") or 0),
    }


def _attach(body: dict) -> list[str] | None:
    streams = [s for s in ("stdin", "stdout", "stderr") if body.get(f"Attach{s.capitalize()}")]
    if streams == ["stdout", "stderr"]:
        return None  # Docker's default
    return streams


def spec_from_body(body: dict, name: str = "") -> ContainerSpec:
    """Turn a ``POST /containers/create`` body into the spec ``wharf create`` would make."""
    if not isinstance(body, dict):
        raise InvalidArgument("invalid container config: expected a JSON object")
    host = body.get("HostConfig") or {}
    image = body.get("Image") or ""
    if not image:
        raise InvalidArgument("no command specified" if not body.get("Cmd") else "image is empty")
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    network = host.get("NetworkMode") or ""
    if network == "default":
        network = ""
    endpoint = endpoints.get(network) or (next(iter(endpoints.values())) if endpoints else {})
    endpoint = endpoint or {}
    ipam = endpoint.get("IPAMConfig") or {}
    entrypoint = body.get("Entrypoint")
    if isinstance(entrypoint, str):
        entrypoint = [entrypoint]
    cmd = body.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    log_config = host.get("LogConfig") or {}
    swappiness = host.get("MemorySwappiness")
    return ContainerSpec(
        image=image,
        cmd=list(cmd) if cmd else None,
        entrypoint=list(entrypoint) if entrypoint is not None else None,
        env=_list(body.get("Env"), "Env"),
        workdir=body.get("WorkingDir") or "",
        user=body.get("User") or "",
        hostname=body.get("Hostname") or "",
        domainname=body.get("Domainname") or "",
        name=name,
        labels=dict(body.get("Labels") or {}),
        tty=bool(body.get("Tty")),
        stdin_open=bool(body.get("OpenStdin")),
        attach=_attach(body),
        privileged=bool(host.get("Privileged")),
        read_only=bool(host.get("ReadonlyRootfs")),
        auto_remove=bool(host.get("AutoRemove")),
        init=bool(host.get("Init")),
        cap_add=_list(host.get("CapAdd"), "CapAdd"),
        cap_drop=_list(host.get("CapDrop"), "CapDrop"),
        security_opt=_list(host.get("SecurityOpt"), "SecurityOpt"),
        sysctls=dict(host.get("Sysctls") or {}),
        ulimits=[
            f"{u['Name']}={u.get('Soft', 0)}:{u.get('Hard', 0)}" for u in host.get("Ulimits") or []
        ],
        network=network,
        network_aliases=_list(endpoint.get("Aliases"), "Aliases"),
        ip=ipam.get("IPv4Address") or None,
        mac_address=body.get("MacAddress") or endpoint.get("MacAddress") or "",
        ports=_ports(host.get("PortBindings")),
        publish_all=bool(host.get("PublishAllPorts")),
        expose=list(body.get("ExposedPorts") or {}),
        dns=_list(host.get("Dns"), "Dns"),
        dns_search=_list(host.get("DnsSearch"), "DnsSearch"),
        dns_options=_list(host.get("DnsOptions"), "DnsOptions"),
        add_hosts=_list(host.get("ExtraHosts"), "ExtraHosts"),
        volumes=_list(host.get("Binds"), "Binds"),
        mounts=[_mount(m) for m in host.get("Mounts") or []],
        tmpfs=[f"{k}:{v}" if v else k for k, v in (host.get("Tmpfs") or {}).items()],
        volumes_from=_list(host.get("VolumesFrom"), "VolumesFrom"),
        restart=_restart(host.get("RestartPolicy")),
        stop_signal=body.get("StopSignal") or "",
        stop_timeout=body.get("StopTimeout"),
        healthcheck=_health(body.get("Healthcheck")),
        log_driver=log_config.get("Type") or "",
        log_opts=dict(log_config.get("Config") or {}),
        memory=int(host.get("Memory") or 0),
        memory_swap=int(host.get("MemorySwap") or 0),
        memory_swappiness=None if swappiness in (None, -1) else int(swappiness),
        oom_kill_disable=bool(host.get("OomKillDisable")),
        memory_reservation=int(host.get("MemoryReservation") or 0),
        cpus=int(host.get("NanoCpus") or 0) / 1e9,
        cpu_shares=int(host.get("CpuShares") or 0),
        cpuset_cpus=host.get("CpusetCpus") or "",
        cpuset_mems=host.get("CpusetMems") or "",
        pids_limit=max(int(host.get("PidsLimit") or 0), 0),
        cpu_period=int(host.get("CpuPeriod") or 0),
        cpu_quota=int(host.get("CpuQuota") or 0),
        blkio_weight=int(host.get("BlkioWeight") or 0),
        device_read_bps=[f"{d['Path']}:{d['Rate']}" for d in host.get("BlkioDeviceReadBps") or []],
        device_write_bps=[
            f"{d['Path']}:{d['Rate']}" for d in host.get("BlkioDeviceWriteBps") or []
        ],
        shm_size=int(host.get("ShmSize") or 0),
        oom_score_adj=host.get("OomScoreAdj") or None,
        runtime=host.get("Runtime") or "",
        devices=[
            ":".join(
                [d.get("PathOnHost", ""), d.get("PathInContainer") or d.get("PathOnHost", "")]
                + ([d["CgroupPermissions"]] if d.get("CgroupPermissions") else [])
            )
            for d in host.get("Devices") or []
        ],
        pid_mode=host.get("PidMode") or "",
        ipc_mode=host.get("IpcMode") or "",
        uts_mode=host.get("UTSMode") or "",
        cgroupns=host.get("CgroupnsMode") or "",
        userns=host.get("UsernsMode") or "",
        group_add=_list(host.get("GroupAdd"), "GroupAdd"),
    )


def extra_networks(body: dict) -> dict[str, dict]:
    """The endpoints beyond the first (``docker create`` connects those after creating)."""
    host = body.get("HostConfig") or {}
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    first = host.get("NetworkMode") or ""
    return {k: v or {} for k, v in endpoints.items() if k != first}
