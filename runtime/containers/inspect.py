"""Docker's ``inspect`` JSON for a container."""

from __future__ import annotations

from typing import Any

from runtime.containers.model import Container

ZERO_TIME = "0001-01-01T00:00:00Z"


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
        "StartedAt": c.started_at or ZERO_TIME,
        "FinishedAt": c.finished_at or ZERO_TIME,
    }
    if health is not None:
        state["Health"] = health
    return state


def host_config_json(c: Container) -> dict:
    s = c.spec
    from runtime.agent.restarts import parse_policy

    policy = parse_policy(s.restart)
    return {
        "NetworkMode": s.network,
        "PortBindings": {},
        "RestartPolicy": {"Name": policy.name, "MaximumRetryCount": policy.max_retries},
        "AutoRemove": s.auto_remove,
        "Binds": s.volumes or None,
        "CapAdd": s.cap_add or None,
        "CapDrop": s.cap_drop or None,
        "Dns": s.dns,
        "DnsOptions": s.dns_options,
        "DnsSearch": s.dns_search,
        "ExtraHosts": s.add_hosts or None,
        "Privileged": s.privileged,
        "PublishAllPorts": s.publish_all,
        "ReadonlyRootfs": s.read_only,
        "SecurityOpt": s.security_opt or None,
        "Tmpfs": dict(t.split(":", 1) if ":" in t else (t, "") for t in s.tmpfs) or None,
        "Init": s.init or None,
        "Runtime": c.runtime or "runc",
        "Memory": s.memory,
        "MemorySwap": s.memory_swap if s.memory_swap else (2 * s.memory if s.memory else 0),
        "MemoryReservation": s.memory_reservation,
        "NanoCpus": int(s.cpus * 1e9),
        "CpuShares": s.cpu_shares,
        "CpusetCpus": s.cpuset_cpus,
        "PidsLimit": s.pids_limit or None,
        "OomScoreAdj": s.oom_score_adj or 0,
        "Sysctls": s.sysctls or None,
        "Ulimits": s.ulimits or None,
        "VolumesFrom": s.volumes_from or None,
        "GroupAdd": s.group_add or None,
    }


def inspect_json(manager: Any, c: Container, mounts: list[dict], settings: dict) -> dict:
    """Return the container's record in the shape ``docker inspect`` prints."""
    base = manager.dir(c.id)
    config = dict(c.config)
    return {
        "Id": c.id,
        "Created": c.created,
        "Path": ((config.get("Entrypoint") or []) + (config.get("Cmd") or []) or [""])[0],
        "Args": ((config.get("Entrypoint") or []) + (config.get("Cmd") or []))[1:],
        "State": state_json(c, manager.health(c.id)),
        "Image": c.image_id,
        "ResolvConfPath": str(base / "resolv.conf"),
        "HostnamePath": str(base / "hostname"),
        "HostsPath": str(base / "hosts"),
        "LogPath": str(base / "json.log"),
        "Name": "/" + c.name,
        "RestartCount": c.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "HostConfig": host_config_json(c),
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {
                "UpperDir": str(base / "upper"),
                "WorkDir": str(base / "work"),
                "MergedDir": str(manager.run_dir(c.id) / "rootfs"),
            },
        },
        "Mounts": mounts,
        "Config": config,
        "NetworkSettings": settings
        or {"Networks": {}, "Ports": {}, "IPAddress": "", "SandboxKey": ""},
    }
