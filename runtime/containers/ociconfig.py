"""Build one run's OCI ``config.json`` from a container and what its start prepared.

Pure: every fact that needs the host (the resolved user, the network set-up,
the volumes' mounts, the cgroup layout, the user-namespace range) is found by
the caller and passed in as a ``RunSetup``, so the builder can be tested with
plain values and makes no decision of its own about files, devices or namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runtime.containers.cgroups import cgroup_path, resources
from runtime.containers.config import DEFAULT_PATH, parse_ulimit
from runtime.containers.model import Container
from runtime.oci.spec import OCIOptions, build_config

#: Docker's ``--init`` binary on the host (bound to /sbin/docker-init)
INIT_BINARY = "/usr/bin/tini-static"
#: the files under /etc a container gets from its directory, bound over the image's
ETC_FILES = ("hostname", "hosts", "resolv.conf")


@dataclass
class RunSetup:
    """What a start found out and prepared for one run of a container."""

    rootfs: Path
    #: the container's user resolved in its rootfs: uid, gid, extra gids, home dir
    uid: int = 0
    gid: int = 0
    additional_gids: list[int] = field(default_factory=list)
    home: str = ""
    #: the network part's answer: ``None`` the host's namespace, "" a fresh one, else a path
    netns_path: str | None = ""
    #: OCI hooks the network set-up adds, by stage (a private user namespace's plug-in)
    hooks: dict[str, list[dict]] = field(default_factory=dict)
    #: the directory holding the run's hostname, hosts and resolv.conf files
    etc_dir: Path = Path()
    #: the volumes', binds' and tmpfs mounts, OCI shaped
    volume_mounts: list[dict] = field(default_factory=list)
    #: parsed --security-opt values
    security: dict[str, str] = field(default_factory=dict)
    #: (first host id, count) for ``--userns private``
    userns: tuple[int, int] | None = None
    cgroup_v2: bool = False
    #: whether the host accounts swap (cgroup v1 without memsw has no swap limit)
    swap_accounting: bool = True
    #: OCI blockIO for the spec's --blkio-weight and --device-* limits (devices resolved)
    block_io: dict = field(default_factory=dict)
    #: --device: OCI device nodes and their cgroup rules (host paths resolved)
    devices: list[dict] = field(default_factory=list)
    device_rules: list[dict] = field(default_factory=list)
    #: pid, ipc, uts namespaces shared (--pid, --ipc, --uts): None the host's, else a path
    shared_namespaces: dict[str, str | None] = field(default_factory=dict)
    #: /dev/shm: "" its own tmpfs, "none" none (--ipc none), else the path bound there
    shm_source: str = ""
    #: cgroup v1: the program that remounts /sys/fs/cgroup read-only in the container
    hook_binary: str = ""
    #: the environment the container's legacy links give it (runtime.containers.links)
    link_env: list[str] = field(default_factory=list)


def container_env(c: Container, home: str) -> list[str]:
    """Return the environment of the container's main process (Docker's PATH when the image
    has none, HOSTNAME, HOME, TERM): added to the process, not to the record."""
    cfg = c.config
    env = list(cfg.get("Env") or [])
    keys = {e.split("=", 1)[0] for e in env}
    if "PATH" not in keys:
        env.insert(0, DEFAULT_PATH)
    env = [f"HOSTNAME={cfg['Hostname']}"] + [e for e in env if not e.startswith("HOSTNAME=")]
    if "HOME" not in keys:
        env.append(f"HOME={home or '/'}")
    if c.spec.tty and "TERM" not in keys:
        env.append("TERM=xterm")
    return env


def _with_links(env: list[str], link_env: list[str]) -> list[str]:
    """The process's environment and its links' (a variable the container sets wins)."""
    keys = {e.split("=", 1)[0] for e in env}
    return env + [e for e in link_env if e.split("=", 1)[0] not in keys]


def cgroupns_mode(asked: str, cgroup_v2: bool) -> str:
    """Docker 20.10's --cgroupns: as asked, else private on cgroup v2 and the host's on v1."""
    return asked or ("private" if cgroup_v2 else "host")


def container_args(c: Container) -> list[str]:
    """Return the main process's argv as the image and the spec give it (before ``--init``)."""
    return list(c.config.get("Entrypoint") or []) + list(c.config.get("Cmd") or [])


def workdir(c: Container) -> str:
    return c.config.get("WorkingDir") or "/"


def oci_netns(netns_path: str | None) -> str | None:
    """Translate the network part's answer into OCIOptions.netns (None there: a fresh one)."""
    return "host" if netns_path is None else (netns_path or None)


def build_oci_config(c: Container, run: RunSetup) -> dict:
    """Return config.json for one run of ``c`` with what its start prepared."""
    spec, cfg = c.spec, c.config
    args = container_args(c)
    mounts: list[dict] = []
    if spec.init:
        mounts.append(
            {
                "destination": "/sbin/docker-init",
                "type": "bind",
                "source": INIT_BINARY,
                "options": ["rbind", "ro"],
            }
        )
        args = ["/sbin/docker-init", "--", *args]
    for name in ETC_FILES:
        mounts.append(
            {
                "destination": f"/etc/{name}",
                "type": "bind",
                "source": str(run.etc_dir / name),
                "options": ["rbind", "rprivate"],
            }
        )
    mounts += run.volume_mounts
    opts = OCIOptions(
        args=args,
        env=_with_links(container_env(c, run.home), run.link_env),
        cwd=workdir(c),
        uid=run.uid,
        gid=run.gid,
        additional_gids=list(run.additional_gids),
        terminal=spec.tty,
        hostname=cfg["Hostname"],
        rootfs=str(run.rootfs),
        readonly_rootfs=spec.read_only,
        privileged=spec.privileged,
        cap_add=spec.cap_add,
        cap_drop=spec.cap_drop,
        seccomp=run.security.get("seccomp"),
        no_new_privileges=run.security.get("no-new-privileges") in ("", "true"),
        mounts=mounts,
        netns=oci_netns(run.netns_path),
        resources=resources(spec, swap=run.swap_accounting, block=run.block_io),
        cgroups_path=cgroup_path(c.id, c.spec.cgroup_parent),
        ulimits=[parse_ulimit(u) for u in spec.ulimits],
        oom_score_adj=spec.oom_score_adj,
        sysctls=spec.sysctls,
        shm_size=spec.shm_size,
        userns=run.userns,
        shared_namespaces=dict(run.shared_namespaces),
        devices=list(run.devices),
        device_rules=list(run.device_rules),
        shm_source=run.shm_source,
        cgroupns=cgroupns_mode(spec.cgroupns, run.cgroup_v2) == "private",
        readonly_cgroup_hook="" if run.cgroup_v2 else run.hook_binary,
        hooks=run.hooks,
    )
    return build_config(opts)
