"""Generate an OCI ``config.json`` with Docker's defaults.

Docker's defaults, written down once: the 14 default capabilities, the masked
and read-only /proc and /sys paths, the default mounts, the device rules, the
seccomp profile (Docker's own default profile, with its capability-conditional
rules; Debian ships it inside golang-github-docker-docker-dev and
``scripts/setup.sh`` puts it in place; it is converted to the OCI form here).
Nothing asks the kernel for more than this host allows: rlimits are clamped to
our own hard limits and ``oomScoreAdj`` is never set below our own value.
"""

from __future__ import annotations

import json
import os
import platform
import resource
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from runtime.errors import HostError, InvalidArgument

DEFAULT_CAPS = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
# Every capability, in linux/capability.h number order (bit i of /proc/self/status masks).
ALL_CAPS = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
# Docker's default profile: where Debian's package installs it, else where
# scripts/setup.sh extracts it (the package pulls ~260 Go source packages).
# Podman's profile (containers-common) is not a substitute: it lets a container
# without CAP_SYS_ADMIN unshare namespaces, mount and reach the host's keyring.
DOCKER_SECCOMP_PROFILES = (
    Path("/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json"),
    Path("/usr/local/share/wharf/seccomp/docker-default.json"),
)
# Address families Docker's current profile refuses to socket(2) (its 20.10.23
# backport, moby#44564, and AF_ALG since): vsock reaches the VM's host, af_alg
# the kernel's crypto API.  socketcall(2) (32-bit x86) would bypass the check.
_REFUSED_SOCKET_FAMILIES = (38, 40)  # AF_ALG, AF_VSOCK
DEFAULT_NOFILE = 1048576
_SECCOMP_ARCH = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}
# Profile rules name architectures as Go does (GOARCH); only the native one counts.
_GOARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}


@dataclass
class OCIOptions:
    """Everything config.json needs, already resolved (user ids, paths, limits)."""

    args: list[str]
    env: list[str]
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: list[int] = field(default_factory=list)
    terminal: bool = False
    hostname: str = ""
    rootfs: str = "rootfs"
    readonly_rootfs: bool = False
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    seccomp: str | None = None  # None: Docker's default; "unconfined"; or a profile file
    no_new_privileges: bool = False
    mounts: list[dict] = field(default_factory=list)
    netns: str | None = None  # None: a fresh one; "host": none; else a path to join
    resources: dict = field(default_factory=dict)
    cgroups_path: str = ""
    ulimits: list[tuple[str, int, int]] = field(default_factory=list)
    oom_score_adj: int | None = None
    sysctls: dict[str, str] = field(default_factory=dict)
    shm_size: int = 0
    userns: tuple[int, int] | None = None  # (first host id, count) for a private user namespace
    #: --device nodes (OCI linux.devices) and the cgroup rules that allow them
    devices: list[dict] = field(default_factory=list)
    device_rules: list[dict] = field(default_factory=list)
    #: pid, ipc, uts namespaces not of its own: None the host's, else a path to join
    shared_namespaces: dict[str, str | None] = field(default_factory=dict)
    #: a cgroup namespace of its own (Docker's --cgroupns private)
    cgroupns: bool = False
    #: /dev/shm: "" a tmpfs of its own, "none" nothing, else a host path bound there
    shm_source: str = ""
    # cgroup v1: a program run as "PROG remount-ro ROOTFS/sys/fs/cgroup" in the
    # container's mount namespace (runc 1.1 leaves that tmpfs writable)
    readonly_cgroup_hook: str = ""
    hooks: dict[str, list[dict]] = field(default_factory=dict)  # OCI hooks to add, by stage


def subordinate_range(user: str = "root") -> tuple[int, int]:
    """Return the host id range for a private user namespace (/etc/subuid, else 100000+65536)."""
    try:
        for line in Path("/etc/subuid").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name == user:
                start, _, count = rest.partition(":")
                return int(start), min(int(count), 65536)
    except (OSError, ValueError):
        pass
    return 100000, 65536


def normalize_cap(name: str) -> str:
    """Return ``CAP_X`` for ``x``, ``X`` or ``CAP_X``; ``ALL`` stays ``ALL``."""
    upper = name.strip().upper()
    if upper == "ALL":
        return upper
    cap = upper if upper.startswith("CAP_") else f"CAP_{upper}"
    if cap not in ALL_CAPS:
        raise InvalidArgument(f"unknown capability: {name!r}")
    return cap


def _our_bounding_set() -> set[str]:
    """Return the capabilities this process may hand on (a container cannot get more)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapBnd:"):
                mask = int(line.split()[1], 16)
                return {cap for i, cap in enumerate(ALL_CAPS) if mask >> i & 1}
    except OSError:
        pass
    return set(ALL_CAPS)


def capability_set(privileged: bool, add: list[str], drop: list[str]) -> list[str]:
    """Apply --cap-add/--cap-drop to Docker's default set (ALL works in both).

    Capabilities this host's Wharf lacks itself (here: CAP_SYS_RESOURCE) are left
    out; asking the kernel for them would fail the whole start.
    """
    ours = _our_bounding_set()
    if privileged:
        return [c for c in ALL_CAPS if c in ours]
    adds = [normalize_cap(c) for c in add]
    drops = [normalize_cap(c) for c in drop]
    caps = [] if "ALL" in drops else list(DEFAULT_CAPS)
    if "ALL" in adds:
        caps = list(ALL_CAPS)
    caps += [c for c in adds if c != "ALL" and c not in caps]
    return [c for c in caps if (c not in drops or c in adds) and c in ours]


def _version(text: str) -> tuple[int, int]:
    major, minor = (int(x) for x in text.split(".")[:2])
    return major, minor


def _kernel_version() -> tuple[int, int]:
    parts = platform.release().split(".")
    return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)


@lru_cache(maxsize=4)
def _load_profile(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"seccomp profile {path}: {exc}") from exc


def docker_default_profile() -> str:
    """Return the path of Docker's default seccomp profile, or fail saying how to get it.

    There is no fallback to a looser profile: a container without one would
    start with more syscalls than Docker allows.
    """
    for path in DOCKER_SECCOMP_PROFILES:
        if path.is_file():
            return str(path)
    raise HostError(
        "Docker's default seccomp profile is missing (looked in "
        + ", ".join(map(str, DOCKER_SECCOMP_PROFILES))
        + "): run scripts/setup.sh as root to install it"
    )


def _refuse_socket_families(syscalls: list[dict]) -> list[dict]:
    """Allow socket(2) only for families other than AF_ALG and AF_VSOCK; drop socketcall.

    Every rule allows, so rules are ORed: three ranges around the refused
    families (libseccomp takes one comparison per argument in a rule).
    """
    out = []
    for rule in syscalls:
        names = [n for n in rule["names"] if n not in ("socket", "socketcall")]
        if len(names) != len(rule["names"]) and rule["action"] == "SCMP_ACT_ALLOW":
            if names:
                out.append({**rule, "names": names})
            continue
        out.append(rule)
    low, high = min(_REFUSED_SOCKET_FAMILIES), max(_REFUSED_SOCKET_FAMILIES)
    between = [f for f in range(low + 1, high) if f not in _REFUSED_SOCKET_FAMILIES]
    conditions = [
        {"index": 0, "value": low, "op": "SCMP_CMP_LT"},
        *({"index": 0, "value": f, "op": "SCMP_CMP_EQ"} for f in between),
        {"index": 0, "value": high, "op": "SCMP_CMP_GT"},
    ]
    out += [{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [c]} for c in conditions]
    return out


def seccomp_section(profile_path: str | None, caps: list[str]) -> dict:
    """Convert a Docker-format seccomp profile to the OCI form for these capabilities.

    ``None`` is Docker's default profile, with Docker's later socket-family
    rules added; a profile the user names is taken as it is.
    """
    default = profile_path is None
    profile = _load_profile(docker_default_profile() if default else profile_path)
    if "syscalls" not in profile and "defaultAction" in profile and "architectures" in profile:
        return profile  # already OCI-shaped
    machine = platform.machine()
    native = _SECCOMP_ARCH.get(machine, f"SCMP_ARCH_{machine.upper()}")
    arches: list[str] = []
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == native:
            arches = [native, *entry.get("subArchitectures", [])]
    arches = arches or list(profile.get("architectures") or [native])
    kernel = _kernel_version()
    goarch = _GOARCH.get(machine, machine)
    syscalls = []
    for rule in profile.get("syscalls") or []:
        inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
        if inc.get("caps") and not all(c in caps for c in inc["caps"]):
            continue
        if inc.get("arches") and goarch not in inc["arches"]:
            continue
        if inc.get("minKernel") and kernel < _version(inc["minKernel"]):
            continue
        if exc.get("caps") and any(c in caps for c in exc["caps"]):
            continue
        if exc.get("minKernel") and kernel >= _version(exc["minKernel"]):
            continue
        if exc.get("arches") and goarch in exc["arches"]:
            continue
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        out: dict = {"names": names, "action": rule["action"]}
        if rule.get("errnoRet") is not None:
            out["errnoRet"] = rule["errnoRet"]
        if rule.get("args"):
            out["args"] = [
                {k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a}
                for a in rule["args"]
            ]
        syscalls.append(out)
    if default:
        syscalls = _refuse_socket_families(syscalls)
    section = {
        "defaultAction": profile.get("defaultAction", "SCMP_ACT_ERRNO"),
        "architectures": arches,
        "syscalls": syscalls,
    }
    if profile.get("defaultErrnoRet") is not None:
        section["defaultErrnoRet"] = profile["defaultErrnoRet"]
    return section


def clamp_rlimit(name: str, soft: int, hard: int) -> tuple[int, int]:
    """Lower a wanted rlimit to what this process may grant (no CAP_SYS_RESOURCE here)."""
    res = getattr(resource, f"RLIMIT_{name.upper()}", None)
    if res is None:
        raise InvalidArgument(f"unknown ulimit: {name!r}")
    _, our_hard = resource.getrlimit(res)
    if our_hard != resource.RLIM_INFINITY:
        hard = min(hard, our_hard)
    return min(soft, hard), hard


def _our_oom_score_adj() -> int:
    try:
        return int(Path("/proc/self/oom_score_adj").read_text())
    except (OSError, ValueError):
        return 0


def default_mounts(readonly_sys: bool = True, shm_size: int = 0) -> list[dict]:
    """Return Docker's default mounts (/proc, /dev, /dev/pts, /sys, cgroups, mqueue, shm)."""
    return [
        {
            "destination": "/proc",
            "type": "proc",
            "source": "proc",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro" if readonly_sys else "rw"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro" if readonly_sys else "rw"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": [
                "nosuid",
                "noexec",
                "nodev",
                "mode=1777",
                f"size={shm_size // 1024 if shm_size else 65536}k",
            ],
        },
    ]


def build_config(opts: OCIOptions) -> dict:
    """Return the OCI runtime config for one container process."""
    caps = capability_set(opts.privileged, opts.cap_add, opts.cap_drop)
    # Docker gives a non-root user the bounding set only; effective/permitted stay empty.
    running_caps = caps if opts.uid == 0 else []
    rlimits = []
    wanted = {"nofile": (DEFAULT_NOFILE, DEFAULT_NOFILE)}
    for name, soft, hard in opts.ulimits:
        wanted[name.lower()] = (soft, hard)
    for name, (soft, hard) in wanted.items():
        soft, hard = clamp_rlimit(name, soft, hard)
        rlimits.append({"type": f"RLIMIT_{name.upper()}", "soft": soft, "hard": hard})
    process: dict = {
        "terminal": opts.terminal,
        "user": {"uid": opts.uid, "gid": opts.gid},
        "args": opts.args,
        "env": opts.env,
        "cwd": opts.cwd,
        "capabilities": {"bounding": caps, "effective": running_caps, "permitted": running_caps},
        "rlimits": rlimits,
        "noNewPrivileges": opts.no_new_privileges,
    }
    if opts.additional_gids:
        process["user"]["additionalGids"] = opts.additional_gids
    if opts.oom_score_adj is not None:
        process["oomScoreAdj"] = max(opts.oom_score_adj, _our_oom_score_adj())

    # a UTS namespace of its own even on the host's network, as Docker: with
    # CAP_SYS_ADMIN a container sharing the host's could rename the host
    namespaces: list[dict] = [{"type": "mount"}]
    for kind in ("pid", "ipc", "uts"):
        if kind not in opts.shared_namespaces:
            namespaces.append({"type": kind})
        elif opts.shared_namespaces[kind] is not None:
            namespaces.append({"type": kind, "path": opts.shared_namespaces[kind]})
    if opts.cgroupns:
        namespaces.append({"type": "cgroup"})
    if opts.netns is None:
        namespaces.append({"type": "network"})
    elif opts.netns != "host":
        namespaces.append({"type": "network", "path": opts.netns})

    linux: dict = {}
    if opts.userns:
        namespaces.append({"type": "user"})
        mapping = [{"containerID": 0, "hostID": opts.userns[0], "size": opts.userns[1]}]
        linux["uidMappings"] = mapping
        linux["gidMappings"] = mapping
    linux |= {
        "namespaces": namespaces,
        "resources": {
            "devices": [{"allow": opts.privileged, "access": "rwm"}, *opts.device_rules],
            **opts.resources,
        },
        "cgroupsPath": opts.cgroups_path,
        "sysctl": opts.sysctls,
    }
    if not opts.privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
        if opts.seccomp != "unconfined":
            linux["seccomp"] = seccomp_section(opts.seccomp, caps)
    else:
        linux["devices"] = _host_devices()
    if opts.devices:
        taken = {d["path"] for d in opts.devices}
        linux["devices"] = [
            *(d for d in linux.get("devices", []) if d["path"] not in taken),
            *opts.devices,
        ]

    mounts = default_mounts(not opts.privileged, opts.shm_size)
    if opts.shm_source:
        mounts = [m for m in mounts if m["destination"] != "/dev/shm"]
        if opts.shm_source != "none":
            mounts.append(
                {
                    "destination": "/dev/shm",
                    "type": "bind",
                    "source": opts.shm_source,
                    "options": ["rbind", "rprivate"],
                }
            )
    if opts.userns and opts.netns == "host":
        # sysfs may only be mounted by the user namespace owning the network
        # namespace, here the host's: bind the host's /sys read-only instead, as
        # Docker does for user namespaces on the host's network
        sysfs = next(m for m in mounts if m["destination"] == "/sys")
        sysfs |= {
            "type": "bind",
            "source": "/sys",
            "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
        }
    hooks: dict = {stage: list(entries) for stage, entries in opts.hooks.items()}
    if opts.readonly_cgroup_hook and not opts.privileged:
        target = os.path.join(opts.rootfs, "sys/fs/cgroup")
        hooks.setdefault("createContainer", []).append(
            {"path": opts.readonly_cgroup_hook, "args": ["wharf-shim", "remount-ro", target]}
        )
    config: dict = {
        "ociVersion": "1.0.2-dev",
        "process": process,
        "root": {"path": opts.rootfs, "readonly": opts.readonly_rootfs},
        "mounts": mounts + opts.mounts,
        "linux": linux,
    }
    if "uts" not in opts.shared_namespaces:  # the host's UTS namespace keeps its name
        config["hostname"] = opts.hostname
    if hooks:
        config["hooks"] = hooks
    return config


def _host_devices() -> list[dict]:
    """List the host's character and block devices for --privileged, as Docker does."""
    import stat

    out = []
    for root, dirs, files in os.walk("/dev"):
        dirs[:] = [d for d in dirs if d not in ("pts", "shm", "mqueue", "fd")]
        for name in files:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                if path in ("/dev/console", "/dev/ptmx", "/dev/tty"):
                    continue
                out.append(
                    {
                        "path": path,
                        "type": "c" if stat.S_ISCHR(st.st_mode) else "b",
                        "major": os.major(st.st_rdev),
                        "minor": os.minor(st.st_rdev),
                        "fileMode": stat.S_IMODE(st.st_mode),
                        "uid": st.st_uid,
                        "gid": st.st_gid,
                    }
                )
    return out
