"""The plain records of containers: what the user asked for, and what exists."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from runtime.errors import InvalidArgument

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str | int, what: str) -> int:
    """Parse Docker's sizes (``512m``, ``1g``, ``1024``) into bytes; -1 means unlimited."""
    if isinstance(text, int):
        return text
    if text.strip() == "-1":
        return -1
    m = _SIZE.match(text)
    if not m:
        raise InvalidArgument(f"invalid {what} value {text!r}: expected a size such as 512m or 1g")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_cpus(text: str | float) -> float:
    """Parse ``--cpus``: a positive decimal number of CPUs."""
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgument(f"invalid --cpus value {text!r}: expected a number") from None
    if value <= 0:
        raise InvalidArgument(f"invalid --cpus value {text!r}: must be a positive number")
    return value


def parse_device(text: str) -> tuple[str, str, str]:
    """Parse ``--device HOST[:CONTAINER][:PERMISSIONS]`` (permissions of r, w, m; rwm)."""
    parts = text.split(":")
    host, ctr, perms = parts[0], parts[0], "rwm"
    if len(parts) == 2:
        if parts[1] and set(parts[1]) <= set("rwm") and not parts[1].startswith("/"):
            perms = parts[1]
        else:
            ctr = parts[1]
    elif len(parts) == 3:
        ctr, perms = parts[1], parts[2]
    elif len(parts) > 3:
        raise InvalidArgument(f"invalid device specification: {text}")
    if not host.startswith("/") or not ctr.startswith("/"):
        raise InvalidArgument(f"invalid device specification: {text}")
    if not perms or not set(perms) <= set("rwm"):
        raise InvalidArgument(f"invalid device mode: {perms}")
    return host, ctr, perms


_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*")


def valid_hostname(value: str) -> bool:
    """Tell whether ``value`` is an RFC 1123 host name of at most 63 bytes (Docker's rule).

    It ends up in /etc/hostname and /etc/hosts: a new line or a space there
    would add lines or names the person never asked for.
    """
    return len(value) <= 63 and _HOSTNAME.fullmatch(value) is not None


@dataclass
class ContainerSpec:
    """What a container is made from: Docker's create options, before the image is merged in."""

    image: str
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None  # [] resets the image's ENTRYPOINT (--entrypoint "")
    env: list[str] = field(default_factory=list)
    workdir: str = ""
    user: str = ""
    hostname: str = ""
    domainname: str = ""
    name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    tty: bool = False
    stdin_open: bool = False
    #: the streams a client attaches (Docker's -a): None = stdout and stderr, [] = detached
    attach: list[str] | None = None
    privileged: bool = False
    read_only: bool = False
    auto_remove: bool = False
    init: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    ulimits: list[str] = field(default_factory=list)
    # namespaces shared: "" its own; "host"; "container:NAME" (pid, ipc); ipc also
    # "private", "shareable" (others may join it) and "none" (no /dev/shm)
    pid_mode: str = ""
    ipc_mode: str = ""
    uts_mode: str = ""
    cgroup_parent: str = ""  # --cgroup-parent: the cgroup its own is made under ("" /wharf)
    cgroupns: str = ""  # "" Docker's default (host on cgroup v1, private on v2), host, private
    userns: str = ""  # "" or "host": the host's; "private": root mapped to /etc/subuid's range
    group_add: list[str] = field(default_factory=list)  # more groups: names (the image's) or gids
    # networking (validated by runtime.network)
    network: str = ""  # "" is Docker's "default": the default bridge
    network_aliases: list[str] = field(default_factory=list)
    ip: str | None = None
    mac_address: str = ""  # of the first network's interface
    ports: list[str] = field(default_factory=list)
    publish_all: bool = False
    expose: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    add_hosts: list[str] = field(default_factory=list)
    #: Docker's legacy links: NAME[:ALIAS] as given; ID:ALIAS once created (containers.links)
    links: list[str] = field(default_factory=list)
    # storage (validated by runtime.volumes)
    volumes: list[str] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)
    tmpfs: list[str] = field(default_factory=list)
    volumes_from: list[str] = field(default_factory=list)
    # lifecycle
    restart: str = "no"
    stop_signal: str = ""
    stop_timeout: int | None = None
    healthcheck: dict | None = None
    log_driver: str = ""  # "" or "json-file": the json log; "none": no log kept
    log_opts: dict[str, str] = field(default_factory=dict)  # json-file: max-size, max-file
    # limits
    memory: int = 0
    memory_swap: int = 0
    memory_swappiness: int | None = None  # 0-100; None: the host's (Docker's -1)
    oom_kill_disable: bool = False
    memory_reservation: int = 0
    cpus: float = 0.0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    pids_limit: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    blkio_weight: int = 0
    device_read_bps: list[str] = field(default_factory=list)  # raw "DEVICE:RATE"
    device_write_bps: list[str] = field(default_factory=list)
    shm_size: int = 0
    oom_score_adj: int | None = None
    runtime: str = ""
    devices: list[str] = field(default_factory=list)  # --device HOST[:CONTAINER[:PERMS]]
    cidfile: str = ""  # where the client wrote the new id (Docker's ContainerIDFile)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def validate(self) -> None:
        """Refuse values no container could run with, before anything is made."""
        if self.memory < 0 and self.memory != -1:
            raise InvalidArgument(f"invalid --memory value {self.memory}")
        if 0 < self.memory < 6 * 1024 * 1024:
            raise InvalidArgument("minimum memory limit allowed is 6MB")
        if self.memory_swap > 0 and self.memory and self.memory_swap < self.memory:
            raise InvalidArgument("minimum memoryswap limit should be larger than memory limit")
        if self.memory_swap > 0 and not self.memory:
            raise InvalidArgument(
                "you should always set the memory limit when using memoryswap limit"
            )
        if self.cpus < 0:
            raise InvalidArgument(f"invalid --cpus value {self.cpus}: must be a positive number")
        if self.blkio_weight and not 10 <= self.blkio_weight <= 1000:
            raise InvalidArgument(
                f"invalid --blkio-weight {self.blkio_weight}: range is 10 to 1000"
            )
        if self.cpus and (self.cpu_period or self.cpu_quota):
            raise InvalidArgument("--cpus conflicts with --cpu-period/--cpu-quota; use one of them")
        if self.cpu_shares < 0:
            raise InvalidArgument(f"invalid --cpu-shares value {self.cpu_shares}")
        for value, flag in (
            (self.cpuset_cpus, "--cpuset-cpus"),
            (self.cpuset_mems, "--cpuset-mems"),
        ):
            if value and not re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*", value):
                raise InvalidArgument(f"invalid {flag} value {value!r}")
        if self.memory_swappiness is not None and not 0 <= self.memory_swappiness <= 100:
            raise InvalidArgument(
                f"Invalid value: {self.memory_swappiness}, valid memory swappiness range is 0-100"
            )
        from runtime.agent.restarts import parse_policy

        if parse_policy(self.restart).name != "no" and self.auto_remove:
            raise InvalidArgument("Conflicting options: --restart and --rm")
        for value, what in ((self.hostname, "hostname"), (self.domainname, "domainname")):
            if value and not valid_hostname(value):
                raise InvalidArgument(f"invalid {what} format: {value!r}")
        from runtime.network.etcfiles import parse_add_host

        for entry in self.add_hosts:
            parse_add_host(entry, "127.0.0.1")
        for value, what in [(d, "--dns-search") for d in self.dns_search] + [
            (o, "--dns-option") for o in self.dns_options
        ]:
            # each becomes a word of a resolv.conf line: no spaces, no new lines
            if not value or not value.isascii() or not value.isprintable() or " " in value:
                raise InvalidArgument(f"invalid {what} value {value!r}")
        if self.name and not re.fullmatch(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]*", self.name):
            raise InvalidArgument(
                f"Invalid container name ({self.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )
        from runtime.oci.spec import normalize_cap

        if self.log_driver not in ("", "json-file", "none"):
            raise InvalidArgument(
                f"logger: no log driver named '{self.log_driver}' is registered "
                "(Wharf has json-file and none)"
            )
        if self.log_driver == "none" and self.log_opts:
            raise InvalidArgument("the none log driver takes no --log-opt")
        for key, value in self.log_opts.items():
            if key == "max-size":
                if parse_size(value, "--log-opt max-size") <= 0:
                    raise InvalidArgument(f"invalid --log-opt max-size={value}: must be positive")
            elif key == "max-file":
                if not value.isdigit() or int(value) < 1:
                    raise InvalidArgument(f"invalid --log-opt max-file={value}: must be 1 or more")
            else:
                raise InvalidArgument(f"unknown log opt {key!r} for the json-file log driver")
        for value, flag, modes in (
            (self.pid_mode, "--pid", ("", "host")),
            (self.ipc_mode, "--ipc", ("", "host", "private", "shareable", "none")),
            (self.uts_mode, "--uts", ("", "host")),
        ):
            joins = flag != "--uts" and value.startswith("container:") and value[10:]
            if value not in modes and not joins:
                raise InvalidArgument(f"invalid {flag}: {value!r}")
        for text in self.devices:
            parse_device(text)
        if self.mac_address and not re.fullmatch(
            r"([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}", self.mac_address
        ):
            raise InvalidArgument(f"{self.mac_address} is not a valid mac address")
        parts = self.cgroup_parent.strip("/").split("/")
        if self.cgroup_parent and not all(
            re.fullmatch(r"[A-Za-z0-9_.-]+", p) and p not in (".", "..") for p in parts
        ):
            # a plain path under the cgroup root (runtime.containers.cgroups.cgroup_path)
            raise InvalidArgument(
                f"invalid --cgroup-parent {self.cgroup_parent!r}: expected a path such as /mine"
            )
        if self.cgroupns not in ("", "host", "private"):
            raise InvalidArgument(f"invalid --cgroupns: {self.cgroupns!r}: use host or private")
        if self.uts_mode == "host" and self.hostname:
            raise InvalidArgument("Conflicting options: hostname and the UTS mode")
        if self.userns not in ("", "host", "private"):
            raise InvalidArgument(f"invalid --userns value {self.userns!r}: use host or private")
        for cap in self.cap_add + self.cap_drop:
            normalize_cap(cap)
        if self.stop_timeout is not None and self.stop_timeout < -1:
            raise InvalidArgument(f"invalid --stop-timeout value {self.stop_timeout}")


@dataclass
class Container:
    """One container as recorded on this host, with its last known state."""

    id: str
    name: str
    image_id: str
    image: str
    created: str
    spec: ContainerSpec
    config: dict  # the merged runtime config (Docker's Config: Env, Cmd, Entrypoint, ...)
    status: str = "created"  # created | running | paused | restarting | exited | dead
    pid: int = 0
    exit_code: int = 0
    started_at: str = ""
    finished_at: str = ""
    oom_killed: bool = False
    error: str = ""
    restart_count: int = 0
    runtime: str = ""
    manual_stop: bool = False  # stopped or killed by a person: no restart policy applies

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused")
