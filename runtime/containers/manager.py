"""The containers of one host: the facade under the ``wharf`` container verbs.

State lives in the shared ``wharf.db`` (table ``containers``), in
``root/containers/<id>/`` (upper/work dirs, log, exit file, /etc files) and in
``run/containers/<id>/`` (bundle, rootfs mount point, attach socket, pid file).
A per-container shim (``runtime.oci.shim``) outlives every Wharf process and
writes the exit file; the record here catches up with it whenever it is read,
so ``ps -a`` is right after any crash of the caller.

The work is split along its seams: ``records`` (the table, events, locks),
``process`` (shim, signals, stop, wait, attach, exec) and ``ociconfig`` (the pure
config.json builder); this class holds the life cycle (create, start, record an
exit, remove, repair) and hands the rest on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from runtime.containers import links
from runtime.containers import rootfs as rootfs_mod
from runtime.containers.cgroups import (
    block_io,
    cgroup_dirs,
    cgroup_mode,
    cgroup_path,
    cgroup_stats,
    container_cgroups,
    devices,
    resources,
    swap_accounting,
)
from runtime.containers.config import ZERO_TIME, merge_config, now_iso, parse_security_opts
from runtime.containers.model import Container, ContainerSpec
from runtime.containers.ociconfig import (
    ETC_FILES,
    RunSetup,
    build_oci_config,
    container_args,
    container_env,
    workdir,
)
from runtime.containers.process import (
    ContainerProcesses,
    check_command,
    pid_alive,
    require_running,
)
from runtime.containers.records import ContainerRecords
from runtime.containers.usage import interface_counters
from runtime.errors import (
    Conflict,
    ContainerNotFound,
    InvalidArgument,
    NotFound,
    WharfError,
    cleanup_step,
)
from runtime.prunefilter import PruneFilter

log = logging.getLogger("wharf.containers")
#: the exit code of a container whose exit nobody saw (its shim died), as Docker reports it
LOST_EXIT_CODE = 255


class ContainerManager:
    """All containers of one host; the Python API under the ``wharf`` container verbs."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.paths = rt.paths
        self.records = ContainerRecords(rt.paths, on_open=self._repair_once)
        self.processes = ContainerProcesses(self)
        self._oci: Any = None
        #: True in the host agent, which watches the containers it starts itself
        self.supervised_here = False

    # --- plumbing --------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        """The containers' table (for the host agent's policy and health bookkeeping)."""
        return self.records.conn

    def _repair_once(self) -> None:
        marker = self.paths.run / "containers.repaired"
        if not marker.exists():
            # The run dir is volatile (tmpfs): a missing marker means a fresh boot or
            # a fresh host, the moment to repair what a crash or a reboot left behind.
            self.repair()
            marker.touch()

    def close(self) -> None:
        self.records.close()

    def dir(self, ctr_id: str) -> Path:
        return self.paths.root / "containers" / ctr_id

    def run_dir(self, ctr_id: str) -> Path:
        return self.paths.run / "containers" / ctr_id

    def upper_dir(self, ctr_id: str) -> Path:
        """Return the container's overlay upper dir (its changes to the image)."""
        return self.dir(self.get(ctr_id).id) / "upper"

    def oci(self, name: str = "") -> Any:
        """Return the OCI runtime adapter (probed once, cached under the run dir)."""
        from runtime.oci.probe import choose_runtime
        from runtime.oci.runc import OCIRuntime

        if self._oci is None or (name and name not in (self._oci.name, self._oci.path)):
            info = choose_runtime(self.paths, name or None)
            adapter = OCIRuntime(info.path, self.paths.run / info.name)
            adapter.name = info.name  # type: ignore[attr-defined]
            if name:
                return adapter
            self._oci = adapter
        return self._oci

    def oci_for(self, c: Container) -> Any:
        """Return the OCI runtime adapter a container was created with."""
        return self.oci(c.runtime) if c.runtime else self.oci()

    # the host agent's names from before the split
    _oci_for = oci_for

    def _find(self, id_or_name: str) -> Container:
        return self.records.find(id_or_name)

    def _event(self, ctr_id: str, action: str, **attrs: Any) -> None:
        self.records.event(ctr_id, action, **attrs)

    # --- lookup ----------------------------------------------------------------------

    # what the network and image parts ask (they never read the containers' table)

    def ids(self) -> set[str]:
        """Return the ids of every container of this root."""
        return self.records.ids()

    def live_ids(self) -> set[str]:
        """Return the ids of the containers running or paused when last seen."""
        return self.records.live_ids()

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        """Return the names of the given containers that exist, by id."""
        return self.records.names(ids)

    def dns_servers(self, ctr_id: str) -> list[str]:
        """Return a container's ``--dns`` servers."""
        return self.records.dns_servers(ctr_id)

    def links(self, ctr_id: str) -> list[str]:
        """Return a container's legacy links as ``ID:ALIAS`` ([] for no such container)."""
        return self.records.links(ctr_id)

    def using_image(self, image_id: str) -> list[str]:
        """Return the ids of the containers made from an image."""
        return self.records.using_image(image_id)

    def get(self, id_or_name: str) -> Container:
        """Return a container by full id, unique id prefix or name (its state brought up to date)."""
        return self.sync(self.records.find(id_or_name))

    def list(self, all: bool = False) -> list[Container]:  # noqa: A002 - docker's flag
        """Return the containers, newest first; only running ones unless ``all``."""
        out = [self.sync(c) for c in self.records.all()]
        return out if all else [c for c in out if c.running or c.status == "restarting"]

    # --- state catch-up with the shim ---------------------------------------------------

    def sync(self, c: Container) -> Container:
        """Bring a running record up to date with what the shim wrote (or mark it dead)."""
        if c.status == "created" and (self.run_dir(c.id) / "pid").exists():
            c = self._adopt(c)
        if not c.running:
            return c
        info = self.processes.read_exit(c.id)
        if info is None:
            if (c.pid and pid_alive(c.pid)) or self.processes.shim_alive(c.id):
                return c  # running, or exited with the shim still recording it
            info = self.processes.read_exit(c.id)
            if info is None:
                # Docker's code for an exit nobody saw (after a crash or an unclean reboot)
                self._finish(
                    c,
                    LOST_EXIT_CODE,
                    now_iso(),
                    False,
                    "the container's monitor (shim) died; its exit code is lost",
                )
                return self.records.find(c.id)
        self._finish(c, int(info["exit_code"]), info["finished_at"], bool(info.get("oom_killed")))
        return self.records.find(c.id)

    def _adopt(self, c: Container) -> Container:
        """Record a start whose caller died after the shim started the container."""
        try:
            pid = int((self.run_dir(c.id) / "pid").read_text())
            started = (self.run_dir(c.id) / "pid").stat().st_mtime_ns
        except (OSError, ValueError):
            return c
        if not (self.processes.shim_alive(c.id) or self.processes.read_exit(c.id)):
            return c  # no run happened that anyone still watches: it stays "created"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started // 10**9))
        with self.records.transaction():
            self.records.mark_adopted(c.id, pid, f"{stamp}.{started % 10**9:09d}Z")
            self.rt.volumes.record_mounts(self.records.conn, c.id)
            self.records.event(c.id, "start")
        return self.records.find(c.id)

    def _finish(self, c: Container, code: int, finished: str, oom: bool, error: str = "") -> None:
        """Record the exit of the run ``c`` describes once (whoever sees it first), with ``die``.

        Only that run: another process may have recorded this exit and started the
        container again meanwhile (then this is stale news). Under the container's
        lock, so freeing the run's mount and network never meets the next run's
        start, which mounts the same rootfs path. A container with a restart policy
        is left for the host agent to decide about (``policy_done=0``), so a
        decision survives an agent that was away.
        """
        from runtime.timefmt import rfc3339_ns

        with self.records.locked(c.id):
            with self.records.transaction():
                recorded = self.records.mark_exited(c, code, finished, oom, error)
                if recorded:
                    if oom:
                        self.records.event(c.id, "oom")
                    ran = 0.0
                    with contextlib.suppress(WharfError, ValueError):
                        ran = (rfc3339_ns(finished) - rfc3339_ns(c.started_at)) / 1e9
                    self.records.event(c.id, "die", exitCode=code, execDuration=int(max(ran, 0)))
                    self.rt.volumes.record_unmounts(self.records.conn, c.id)
            if recorded:
                self._release_run_resources(c)

    def _release_run_resources(self, c: Container) -> None:
        """Free what only a running container holds: network, rootfs mount (idempotent)."""
        with cleanup_step(log, f"{c.id[:12]}: freeing its network"):
            self.rt.networks.teardown(c.id)
        with cleanup_step(log, f"{c.id[:12]}: unmounting its rootfs"):
            rootfs_mod.unmount(self.run_dir(c.id) / "rootfs")
            rootfs_mod.unmount(self.run_dir(c.id) / "shm")

    # --- create ----------------------------------------------------------------------

    def create(self, spec: ContainerSpec) -> Container:
        """Record a new container from an image; nothing runs yet."""
        spec.validate()
        block_io(spec)  # device paths and weights checked now, not at start
        devices(spec)
        image = self.rt.images.get(spec.image)
        ctr_id = os.urandom(32).hex()  # as secrets.token_hex, without its import cost
        name = spec.name.lstrip("/") if spec.name else ""
        spec.links = links.resolve(self, spec)
        config = merge_config(spec, image.container_config, ctr_id, image_ref=spec.image)
        if not (config.get("Entrypoint") or []) + (config.get("Cmd") or []):
            raise InvalidArgument("no command specified")
        from runtime.containers.names import random_name

        created = now_iso()
        for _ in range(20):
            candidate = name or random_name()
            try:
                with self.records.transaction():
                    self.records.insert(
                        ctr_id, candidate, image.id, spec.image, created, spec, config
                    )
                    self.records.event(ctr_id, "create", name=candidate, image=spec.image)
                break
            except sqlite3.IntegrityError:
                if name:
                    other = self.records.find(name)
                    raise Conflict(
                        f'Conflict. The container name "/{name}" is already in use by container '
                        f'"{other.id}". You have to remove (or rename) that container to be able '
                        "to reuse that name."
                    ) from None
        try:
            self._make_dirs(ctr_id)
            self.rt.networks.plan(ctr_id, spec)
            if self._uses_volumes(spec, image):
                self.rt.volumes.plan(ctr_id, spec, image)
        except BaseException:
            with cleanup_step(log, f"{ctr_id[:12]}: undoing a failed create's network plan"):
                self.rt.networks.release(ctr_id)
            self._discard(ctr_id)
            raise
        return self.records.find(ctr_id)

    @staticmethod
    def _uses_volumes(spec: ContainerSpec, image: Any) -> bool:
        return bool(
            spec.volumes
            or spec.mounts
            or spec.tmpfs
            or spec.volumes_from
            or image.container_config.get("Volumes")
        )

    def _make_dirs(self, ctr_id: str) -> None:
        base = self.dir(ctr_id)
        for sub in ("upper", "work"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        # bind sources (/etc/hosts, ...) must be reachable from a user namespace
        os.chmod(base, 0o711)  # noqa: S103 - search only, no listing

    def _discard(self, ctr_id: str) -> None:
        """Undo a create that failed half-way: row and directories (its create event stays,
        followed by destroy, so a follower that saw it is not left with a ghost)."""
        with self.records.transaction():
            self.records.event(ctr_id, "destroy")
            self.records.delete(ctr_id)
        shutil.rmtree(self.dir(ctr_id), ignore_errors=True)

    # --- start -----------------------------------------------------------------------

    def start(self, id_or_name: str, attach_fd: int | None = None) -> Container:
        """Start a container; a running one is left as it is (a redelivered start is harmless).

        ``attach_fd`` is one end of a socket pair the shim treats as an attached
        client from the first byte (``wharf run`` in the foreground).
        """
        c = self.get(id_or_name)
        with self.records.locked(c.id) as lock_fd:
            c = self.get(c.id)
            if c.status == "paused":
                raise Conflict(f"cannot start a paused container {c.name}, try unpause instead")
            if c.status == "running":
                return c
            self._start_checked(c, attach_fd, lock_fd, by_policy=False)
        self._tell_agent(c.id)
        return self.records.find(c.id)

    def restart_by_policy(self, ctr_id: str) -> bool:
        """Start a container again for its restart policy (the host agent calls this).

        Only a container still waiting for it (``restarting``, not stopped by a
        person since) is started; the count of policy restarts grows by one.
        Return whether it was started.
        """
        with self.records.locked(ctr_id) as lock_fd:
            try:
                c = self.records.find(ctr_id)
            except NotFound:
                return False
            if c.status != "restarting" or c.manual_stop:
                return False
            self._start_checked(c, None, lock_fd, by_policy=True)
        return True

    def _start_checked(
        self, c: Container, attach_fd: int | None, lock_fd: int, by_policy: bool
    ) -> None:
        """Start under the lock; a failure is recorded on the container (and ends a restart)."""
        try:
            self._start_locked(c, attach_fd, lock_fd, by_policy)
        except WharfError as exc:
            with self.records.transaction():
                self.records.update(c.id, error=str(exc), exit_code=exc.exit_code)
                self.records.end_restart(c.id, by_person=False)
            raise

    def _tell_agent(self, ctr_id: str) -> None:
        """Hand a started container to the host agent, which records its exit and applies
        its restart policy and health check even when no Wharf command runs."""
        if self.supervised_here:
            return
        from runtime.agent import client

        try:
            client.call(self.paths, "supervise", id=ctr_id)
        except WharfError as exc:  # the container runs; any later command records its exit
            log.warning("the host agent does not watch %s: %s", ctr_id[:12], exc)

    def _start_locked(
        self, c: Container, attach_fd: int | None, lock_fd: int, by_policy: bool = False
    ) -> int:
        from runtime.oci.shim import shim_binary

        oci = self.oci_for(c)
        base, run = self.dir(c.id), self.run_dir(c.id)
        self._make_dirs(c.id)
        run.mkdir(parents=True, exist_ok=True)
        rootfs = run / "rootfs"
        (base / "exit.json").unlink(missing_ok=True)
        (run / "pid").unlink(missing_ok=True)
        oci.delete(c.id)  # a stale runtime record from a crash would block the name
        lower = self._lower_dirs(c)
        rootfs_mod.unmount(rootfs)
        rootfs_mod.mount_overlay(lower, base / "upper", base / "work", rootfs)
        try:
            # the container's own layer, then the image's (the init layer between them
            # would hide an image's symlink: it is Wharf's, not the image's)
            rootfs_mod.check_guarded([base / "upper"])
            rootfs_mod.check_guarded(lower[1:])
            # bind sources stay open (pinned) until the runtime has mounted them
            with contextlib.ExitStack() as pins:
                config_json = self._oci_config(c, rootfs, pins)
                (run / "config.json").write_text(json.dumps(config_json))
                health = self._prepare_health(c)
                started = now_iso()
                pid = self.processes.spawn_shim(c, oci, shim_binary(), attach_fd, lock_fd)
        except BaseException:
            with cleanup_step(log, f"{c.id[:12]}: freeing a failed start's network"):
                self.rt.networks.teardown(c.id)
            rootfs_mod.unmount(rootfs)
            rootfs_mod.unmount(run / "shm")
            raise
        with self.records.transaction():
            # a person's start is a fresh start for the restart policy (Docker resets
            # RestartCount); the policy's own start counts one more
            self.records.update(
                c.id,
                status="running",
                pid=pid,
                started_at=started,
                finished_at=ZERO_TIME,
                exit_code=0,
                oom_killed=0,
                error="",
                manual_stop=0,
                policy_done=1,
                restart_count=c.restart_count + 1 if by_policy else 0,
                health=json.dumps(health) if health else "",
            )
            self.rt.volumes.record_mounts(self.records.conn, c.id)
            self.records.event(c.id, "start")
        return pid

    def _lower_dirs(self, c: Container) -> list[Path]:
        """Return the overlay lowerdirs, top first: the init layer, then the image's layers.

        The init layer (Docker's "-init") holds the mount points Wharf binds over
        (/etc/hostname, /etc/hosts, /etc/resolv.conf, /proc, /sys, /dev), so the
        runtime never creates them in the container's own layer: a commit stays
        clean, and a root in a private user namespace needs no write access to /etc.
        """
        image = self.rt.images.get(c.image_id)
        paths = self.rt.images.layer_paths(image)
        if len(paths) > 30:  # absolute layer dirs would overflow the one page of mount options
            paths = self.rt.images.layer_links(image)
        return [self._init_layer(c.id), *reversed(paths)]

    def _init_layer(self, ctr_id: str) -> Path:
        init = self.dir(ctr_id) / "init"
        if not (init / "etc" / "resolv.conf").exists():
            for d in ("etc", "proc", "sys", "dev"):
                (init / d).mkdir(parents=True, exist_ok=True, mode=0o755)
            for name in ("hostname", "hosts", "resolv.conf"):
                (init / "etc" / name).touch(mode=0o644)
        return init

    def _oci_config(self, c: Container, rootfs: Path, pins: contextlib.ExitStack) -> dict:
        """Build config.json for this run (setting up the container's network on the way)."""
        return build_oci_config(c, self._prepare_run(c, rootfs, pins))

    def _prepare_run(self, c: Container, rootfs: Path, pins: contextlib.ExitStack) -> RunSetup:
        """Find out and set up what one run needs from the host, in Docker's order of
        failures: the user and command first, then the network, the /etc files, the mounts."""
        from runtime.oci.shim import shim_binary

        spec, cfg = c.spec, c.config
        uid, gid, extra_gids, home = rootfs_mod.resolve_user(
            rootfs, cfg.get("User") or "", spec.group_add
        )
        cwd = workdir(c)
        rootfs_mod.make_workdir(rootfs, cwd, uid, gid)
        args = container_args(c)
        if not spec.init and not self._in_a_mount(c, args[0]):
            check_command(rootfs, args[0], container_env(c, home), cwd)

        exposed = list((cfg.get("ExposedPorts") or {}).keys())
        linked = links.for_start(self, self.rt.networks.settings, c)
        setup = self.rt.networks.setup(c.id, spec, c.name, exposed)
        base = self.dir(c.id)
        contents = {"hostname": cfg["Hostname"] + "\n", "hosts": setup.hosts + linked.hosts}
        contents["resolv.conf"] = setup.resolv_conf
        for name in ETC_FILES:
            (base / name).write_text(contents[name])
        volume_mounts: list[dict] = []
        if self._uses_volumes(spec, self.rt.images.get(c.image_id)):
            volume_mounts = self.rt.volumes.mounts(c.id, rootfs, pins)
        security = parse_security_opts(spec.security_opt)
        block = block_io(spec)
        device_nodes, device_rules = devices(spec)
        v2 = cgroup_mode() == "v2"
        return RunSetup(
            rootfs=rootfs,
            uid=uid,
            gid=gid,
            additional_gids=extra_gids,
            home=home,
            netns_path=setup.netns_path,
            hooks=setup.hooks,
            etc_dir=base,
            volume_mounts=volume_mounts,
            security=security,
            userns=self._userns_range(rootfs) if spec.userns == "private" else None,
            cgroup_v2=v2,
            swap_accounting=swap_accounting(),
            block_io=block,
            hook_binary="" if v2 else str(shim_binary()),
            devices=device_nodes,
            device_rules=device_rules,
            link_env=linked.env or [],
            **self._shared_namespaces(c),
        )

    def _shared_namespaces(self, c: Container) -> dict:
        """RunSetup's shared_namespaces and shm_source for --pid, --ipc and --uts: the
        host's, or the namespaces of a running container (Docker's ``container:NAME``).

        A shareable IPC donor's /dev/shm is a tmpfs on the host (its run dir's ``shm``,
        mounted here, unmounted when it stops), which the containers joining its IPC
        bind as theirs: a mount of another mount namespace cannot be bound."""
        from runtime.errors import Conflict

        spec = c.spec
        shared: dict[str, str | None] = {}
        shm = ""
        for kind, mode in (("pid", spec.pid_mode), ("ipc", spec.ipc_mode), ("uts", spec.uts_mode)):
            if mode == "host":
                shared[kind] = None
            elif mode.startswith("container:"):
                donor = self.get(mode.removeprefix("container:"))
                if donor.status != "running":
                    raise Conflict(f"cannot join {kind} of a non running container: {donor.id}")
                if kind == "ipc" and donor.spec.ipc_mode not in ("shareable", "host"):
                    raise Conflict(
                        "non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
                    )
                shared[kind] = f"/proc/{donor.pid}/ns/{kind}"
                if kind == "ipc":
                    donor_shm = self.run_dir(donor.id) / "shm"
                    shm = "/dev/shm" if donor.spec.ipc_mode == "host" else str(donor_shm)
        if spec.ipc_mode == "host":
            shm = "/dev/shm"
        elif spec.ipc_mode == "shareable":
            own = self.run_dir(c.id) / "shm"
            rootfs_mod.unmount(own)  # a crashed run's
            rootfs_mod.mount_shm(own, spec.shm_size)
            shm = str(own)
        elif spec.ipc_mode == "none":
            shm = "none"
        return {"shared_namespaces": shared, "shm_source": shm}

    @staticmethod
    def _userns_range(rootfs: Path) -> tuple[int, int]:
        """Return the id range for a private user namespace, after checking it can reach the rootfs."""
        from runtime.errors import HostError
        from runtime.oci.spec import subordinate_range

        for parent in rootfs.parents:
            if not os.stat(parent).st_mode & 0o001:
                raise HostError(
                    f"{parent} is not searchable by others (mode {os.stat(parent).st_mode & 0o777:o}): "
                    "a container in a private user namespace cannot reach its rootfs"
                )
        return subordinate_range()

    def _in_a_mount(self, c: Container, cmd: str) -> bool:
        """Tell whether a command path lies in a volume, bind or tmpfs (not in the rootfs yet)."""
        if not cmd.startswith("/") or not self._uses_volumes(
            c.spec, self.rt.images.get(c.image_id)
        ):
            return False
        dests = [m["Destination"].rstrip("/") + "/" for m in self.rt.volumes.mounts_json(c.id)]
        return any(cmd.startswith(d) for d in dests)

    def healthcheck(self, c: Container) -> dict | None:
        """Return the container's effective health check (Docker's Healthcheck), or None."""
        check = c.config.get("Healthcheck") or {}
        test = check.get("Test") or []
        if not test or test[0] == "NONE":
            return None
        return check

    def _prepare_health(self, c: Container) -> dict | None:
        """Write the check's OCI process for this run; return the first State.Health.

        The host agent runs the check on schedule (``runtime.agent.health``), as
        Docker's daemon does; the process file holds the container's own user,
        environment and capabilities with the check's command.
        """
        check = self.healthcheck(c)
        if check is None:
            return None
        from runtime.agent.health import check_argv, initial_state

        run = self.run_dir(c.id)
        process = json.loads((run / "config.json").read_text())["process"]
        process.update(args=check_argv(check["Test"]), terminal=False)
        (run / "health-process.json").write_text(json.dumps(process))
        return initial_state()

    def health(self, id_or_name: str) -> dict | None:
        """Return Docker's State.Health of a container with a health check, else None."""
        return self.records.health(self.records.find(id_or_name).id)

    # --- signals, stop, wait -------------------------------------------------------------

    def kill(self, id_or_name: str, signal: str | int = "KILL") -> None:
        """Send a signal to the container's main process."""
        self.processes.kill(id_or_name, signal)

    def stop(self, id_or_name: str, timeout: int | None = None) -> Container:
        """Send STOPSIGNAL, then SIGKILL after the timeout (Docker's default 10 s)."""
        return self.processes.stop(id_or_name, timeout)

    def wait(self, id_or_name: str, timeout: float | None = None) -> int:
        """Block until the container exits; return its exit code."""
        return self.processes.wait(id_or_name, timeout)

    def attach_socket(self, id_or_name: str) -> socket.socket:
        """Return a connection to a running container's stdio (frames, see the shim)."""
        return self.processes.attach_socket(id_or_name)

    def resize(self, id_or_name: str, rows: int, cols: int) -> None:
        """Set the window size of a ``-t`` container's terminal."""
        self.processes.resize(id_or_name, rows, cols)

    def exec(self, id_or_name: str, cmd: list[str], **options: Any) -> int:
        """Run one more process in a running container; see ``ContainerProcesses.exec``."""
        return self.processes.exec(id_or_name, cmd, **options)

    def exec_tty(self, id_or_name: str, cmd: list[str], **options: Any) -> Any:
        """Start one more process on a pty of its own; see ``ContainerProcesses.exec_tty``."""
        return self.processes.exec_tty(id_or_name, cmd, **options)

    def restart(self, id_or_name: str, timeout: int | None = None) -> Container:
        """Stop and start again (a person's restart: the policy's count starts over)."""
        c = self.stop(id_or_name, timeout)
        c = self.start(c.id)
        with self.records.transaction():
            self.records.event(c.id, "restart")
        return c

    #: what ``update`` may change: the restart policy and the cgroup limits
    UPDATABLE = frozenset(
        {
            "restart", "memory", "memory_swap", "memory_reservation", "cpus", "cpu_shares",
            "cpu_period", "cpu_quota", "cpuset_cpus", "cpuset_mems", "pids_limit",
            "blkio_weight",
        }
    )  # fmt: skip

    def update(self, id_or_name: str, **changes: Any) -> None:
        """Change a container's restart policy and limits (``wharf update``); a live
        container's cgroup gets the new limits at once, then its record keeps them."""
        unknown = set(changes) - self.UPDATABLE
        if unknown:
            raise InvalidArgument(f"cannot update {', '.join(sorted(unknown))}")
        with self.records.locked(self.get(id_or_name).id):
            c = self.get(id_or_name)
            values = c.spec.to_dict() | changes
            if "memory" in changes and "memory_swap" not in changes and c.spec.memory_swap > 0:
                # as Docker: a new memory limit above the old swap limit moves the swap too
                values["memory_swap"] = max(c.spec.memory_swap, changes["memory"])
            if "cpus" in changes:
                values["cpu_period"] = values["cpu_quota"] = 0
            elif {"cpu_period", "cpu_quota"} & set(changes):
                values["cpus"] = 0.0
            spec = ContainerSpec.from_dict(values)
            spec.validate()
            if c.status in ("running", "paused") and set(changes) - {"restart"}:
                limits = resources(spec, swap=swap_accounting(), block=block_io(spec))
                self.oci_for(c).update(c.id, limits)
            with self.records.transaction():
                self.records.update(c.id, spec=json.dumps(spec.to_dict()))
                self.records.event(c.id, "update")

    def pause(self, id_or_name: str) -> None:
        """Freeze every process of the container (cgroup freezer)."""
        c = self.get(id_or_name)
        require_running(c)
        if c.status == "paused":
            raise Conflict(f"Container {c.id} is already paused")
        self.oci_for(c).pause(c.id)
        with self.records.transaction():
            self.records.update(c.id, status="paused")
            self.records.event(c.id, "pause")

    def unpause(self, id_or_name: str) -> None:
        c = self.get(id_or_name)
        if c.status != "paused":
            raise Conflict(f"Container {c.id} is not paused")
        self.oci_for(c).resume(c.id)
        with self.records.transaction():
            self.records.update(c.id, status="running")
            self.records.event(c.id, "unpause")

    def rename(self, id_or_name: str, new_name: str) -> None:
        c = self.get(id_or_name)
        new_name = new_name.lstrip("/")
        ContainerSpec(image="x", name=new_name).validate()
        try:
            with self.records.transaction():
                self.records.update(c.id, name=new_name)
                self.records.event(c.id, "rename", oldName=c.name, name=new_name)
        except sqlite3.IntegrityError:
            raise Conflict(
                f'Conflict. The container name "/{new_name}" is already in use'
            ) from None

    # --- remove ----------------------------------------------------------------------

    def remove(self, id_or_name: str, force: bool = False, volumes: bool = False) -> None:
        """Remove a container and everything it holds; a running one only with ``force``."""
        c = self.get(id_or_name)
        with self.records.locked(c.id):
            c = self.get(c.id)
            if (c.running or c.status == "restarting") and not force:
                raise Conflict(
                    f"You cannot remove a {c.status} container {c.id}. "
                    "Stop the container before attempting removal or force remove"
                )
            if c.running:
                with self.records.transaction():
                    self.records.update(c.id, manual_stop=1)  # gone for good: no restart
                if c.status == "paused":
                    with cleanup_step(log, f"{c.id[:12]}: resuming it to remove it"):
                        self.oci_for(c).resume(c.id)
                self.processes.signal(c, 9)
                self.processes.wait_exit(c.id, 30)
                c = self.get(c.id)
            self._cleanup_files(c)
            with cleanup_step(
                log, f"{c.id[:12]}: releasing its volumes", NotFound, level=logging.DEBUG
            ):
                self.rt.volumes.release(c.id, remove_anonymous=volumes)
            self.rt.networks.release(c.id)
            with self.records.transaction():
                self.records.event(c.id, "destroy")
                self.records.delete(c.id)
            shutil.rmtree(self.dir(c.id), ignore_errors=True)

    def _cleanup_files(self, c: Container) -> None:
        with cleanup_step(
            log, f"{c.id[:12]}: deleting its OCI runtime record", level=logging.DEBUG
        ):
            self.oci_for(c).delete(c.id)
        self._release_run_resources(c)
        shutil.rmtree(self.run_dir(c.id), ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.paths.run / "locks" / c.id).unlink()

    def prune(self, filters: PruneFilter | None = None) -> dict:
        """Remove every stopped container (that ``filters`` let through); return Docker's report."""
        deleted, space = [], 0
        for c in self.list(all=True):
            if c.running or c.status == "restarting":
                continue
            if filters and not filters.matches(c.created, c.config.get("Labels")):
                continue
            space += _du(self.dir(c.id) / "upper")
            self.remove(c.id)
            deleted.append(c.id)
        return {"ContainersDeleted": deleted, "SpaceReclaimed": space}

    def repair(self) -> list[str]:
        """Fix what a crash left behind; return one line per repair made."""
        done: list[str] = []
        ids = self.records.ids()
        for c in self.records.live():
            if self.sync(c).status != c.status:
                done.append(f"{c.id[:12]}: recorded its exit")
        running = self.records.live_ids()
        for parent in (self.paths.run / "containers", self.paths.root / "containers"):
            if not parent.is_dir():
                continue
            for d in parent.iterdir():
                if d.name in running or not d.is_dir():
                    continue
                with self.records.locked(d.name), contextlib.suppress(NotFound):
                    # asked again under the lock: a create may have added it since
                    known = self.records.exists(d.name)
                    if known and self.sync(self.records.find(d.name)).running:
                        continue
                    self._repair_dir(parent, d, known, done)
        # A start holds the container's lock until its bind sources are unstaged:
        # under the lock, a staging mount left there is a killed start's.
        from runtime.volumes.policy import staging_dir, unstage

        for staged in sorted(staging_dir(self.paths).glob("*.*")):
            with self.records.locked(staged.name.split(".")[0]):
                unstage(staged)
                done.append(f"{staged.name[:12]}: removed a stale bind staging mount {staged}")
        # The cgroup tree is shared by every Wharf root on the machine: touch only our
        # own containers', under their lock (a start in progress has an empty cgroup).
        stale = container_cgroups() + [
            ctrl
            for c in self.records.all()
            if c.spec.cgroup_parent and c.id not in running
            for ctrl in cgroup_dirs(cgroup_path(c.id, c.spec.cgroup_parent))
        ]
        for ctrl in stale:
            if ctrl.name in ids and ctrl.name not in running:
                with self.records.locked(ctrl.name), contextlib.suppress(OSError, NotFound):
                    if not self.records.find(ctrl.name).running:
                        ctrl.rmdir()
                        done.append(f"{ctrl.name[:12]}: removed stale cgroup {ctrl}")
        return done + self.rt.networks.repair()

    def _repair_dir(self, parent: Path, d: Path, known: bool, done: list[str]) -> None:
        if rootfs_mod.is_mounted(d / "rootfs"):
            rootfs_mod.unmount(d / "rootfs")
            done.append(f"{d.name[:12]}: unmounted a stale rootfs")
        if rootfs_mod.is_mounted(d / "shm"):
            rootfs_mod.unmount(d / "shm")
            done.append(f"{d.name[:12]}: unmounted a stale /dev/shm")
        if not known:
            shutil.rmtree(d, ignore_errors=True)
            (self.paths.run / "locks" / d.name).unlink(missing_ok=True)
            done.append(f"{d.name[:12]}: removed leftover {d}")
        elif parent == self.paths.run / "containers":
            shutil.rmtree(d, ignore_errors=True)

    # --- logs ------------------------------------------------------------------------

    def logs(
        self,
        id_or_name: str,
        follow: bool = False,
        tail: int | None = None,
        since: str | None = None,
        until: str | None = None,
        stopped: Callable[[], bool] | None = None,
    ) -> Iterator[dict]:
        """Yield the container's log records ({"log","stream","time"}), following if asked.

        ``stopped`` ends a follow as the container's exit does (what was written is
        still read): a reader that lost its viewer stops within one poll, even
        while the container writes nothing. The container is looked up and its log
        read at the call (an unknown one raises here, not at the first record), and
        a follow whose container is removed meanwhile ends as its exit would.
        """
        from runtime.containers.logs import read_log

        c = self.get(id_or_name)
        if c.spec.log_driver == "none":
            raise InvalidArgument("configured logging driver does not support reading")
        exit_file = self.dir(c.id) / "exit.json"

        def running() -> bool:
            if stopped is not None and stopped():
                return False
            try:
                return self.records.find(c.id).running and not exit_file.exists()
            except ContainerNotFound:
                return False

        return read_log(
            self.dir(c.id) / "json.log",
            follow=follow,
            tail=tail,
            since=since,
            until=until,
            running=running,
        )

    # --- exec ------------------------------------------------------------------------

    # --- inspection ------------------------------------------------------------------

    def top(self, id_or_name: str, ps_args: str = "-ef") -> tuple[list[str], list[list[str]]]:
        """Return ``ps`` output (titles, rows) for the container's processes."""
        c = self.get(id_or_name)
        require_running(c)
        pids = set(self.oci_for(c).pids(c.id))
        proc = subprocess.run(["ps", *ps_args.split()], capture_output=True, text=True)
        if proc.returncode != 0:
            reason = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[0]
            raise InvalidArgument(f"Error running ps: {reason}")
        lines = proc.stdout.splitlines()
        titles = lines[0].split() if lines else []
        if "PID" not in titles:
            raise InvalidArgument("Couldn't find PID field in ps output")
        pid_col = titles.index("PID")
        rows = []
        for line in lines[1:]:
            cols = line.split(None, len(titles) - 1)
            if len(cols) > pid_col and cols[pid_col].isdigit() and int(cols[pid_col]) in pids:
                rows.append(cols)
        return titles, rows

    def stats(self, id_or_name: str) -> dict:
        """Return a snapshot of the container's counters: cgroup (memory, CPU, pids, block
        I/O) and network (bytes through its interfaces, loopback aside, as Docker counts)."""
        c = self.get(id_or_name)
        require_running(c)
        out = cgroup_stats(cgroup_path(c.id, c.spec.cgroup_parent))
        # the host's interfaces are not the container's: Docker shows none for --network host
        nets = {} if c.spec.network == "host" else interface_counters(c.pid)
        out["networks"] = nets
        out["net_rx"] = sum(n["rx_bytes"] for n in nets.values())
        out["net_tx"] = sum(n["tx_bytes"] for n in nets.values())
        return out

    def ports(self, id_or_name: str) -> dict:
        """Return Docker's NetworkSettings.Ports of a container ({} without the network part)."""
        c = self.records.find(id_or_name)
        try:
            return (self.rt.networks.settings(c.id) or {}).get("Ports") or {}
        except WharfError:
            return {}

    def inspect(self, id_or_name: str | Container, size: bool = False) -> dict:
        """Return Docker's inspect JSON for the container (``size``: with SizeRw and
        SizeRootFs, as ``inspect -s``); a Container just read (a list's) is not read
        again, which halves what ``ps`` costs per container."""
        from runtime.containers.inspect import inspect_json

        c = id_or_name if isinstance(id_or_name, Container) else self.get(id_or_name)
        mounts: list[dict] = []
        with contextlib.suppress(WharfError):
            mounts = self.rt.volumes.mounts_json(c.id)
        settings: dict = {}
        with contextlib.suppress(WharfError):
            settings = self.rt.networks.settings(c.id)
        sizes = self.size(c.id) if size else None
        return inspect_json(self, c, mounts, settings, sizes)

    # --- commit, export, cp ----------------------------------------------------------

    def commit(
        self,
        id_or_name: str,
        repository: str = "",
        *,
        message: str = "",
        author: str = "",
        changes: list[str] | None = None,
        pause: bool = True,
    ) -> Any:
        """Make a new image from the container's changes (its upper dir)."""
        from runtime.build.instructions import apply_changes

        c = self.get(id_or_name)
        image = self.rt.images.get(c.image_id)
        config = apply_changes(dict(c.config), changes or [])
        for key in (
            "Hostname",
            "Domainname",
            "AttachStdin",
            "AttachStdout",
            "AttachStderr",
            "Tty",
            "OpenStdin",
            "StdinOnce",
            "Image",
        ):
            config.pop(key, None)
        paused_here = False
        if pause and c.status == "running":
            self.pause(c.id)
            paused_here = True
        try:
            cmd = " ".join((c.config.get("Entrypoint") or []) + (c.config.get("Cmd") or []))
            new = self.rt.images.commit(
                image,
                self.dir(c.id) / "upper",
                config,
                created_by=cmd,
                comment=message,
                author=author,
                tags=[repository] if repository else [],
            )
        finally:
            if paused_here:
                self.unpause(c.id)
        with self.records.transaction():
            self.records.event(c.id, "commit", image=new.id)
        return new

    def size(self, id_or_name: str) -> tuple[int, int]:
        """Return Docker's SizeRw (what the container wrote) and SizeRootFs (with its image)."""
        c = self.get(id_or_name)
        rw = _du(self.dir(c.id) / "upper")
        try:
            image = self.rt.images.get(c.image_id).size
        except NotFound:
            image = 0
        return rw, image + rw

    def changes(self, id_or_name: str) -> list[tuple[str, str]]:
        """Return what the container changed in its filesystem, as ``docker diff`` lists it."""
        from runtime.containers.changes import changes

        c = self.get(id_or_name)
        return changes(self.dir(c.id) / "upper", self._lower_dirs(c))

    @contextlib.contextmanager
    def mounted_rootfs(self, id_or_name: str) -> Iterator[Path]:
        """Yield the container's merged rootfs, mounting it for the block if it is stopped."""
        c = self.get(id_or_name)
        rootfs = self.run_dir(c.id) / "rootfs"
        if c.running:
            yield rootfs
            return
        with self.records.locked(c.id):
            lower = self._lower_dirs(c)
            base = self.dir(c.id)
            self._make_dirs(c.id)
            tmp = self.run_dir(c.id) / f"view-{os.getpid()}"
            rootfs_mod.mount_overlay(lower, base / "upper", base / "work", tmp)
            try:
                yield tmp
            finally:
                rootfs_mod.unmount(tmp)
                with contextlib.suppress(OSError):
                    tmp.rmdir()

    def export(self, id_or_name: str, out: Any) -> None:
        """Write the container's filesystem as a tar stream, as ``docker export`` does.

        A reader that goes away (``wharf export c | head``) is BrokenPipeError, as
        for Python's own writes.
        """
        from runtime.containers.copy import export_tar

        export_tar(self, id_or_name, out)


def _du(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total
