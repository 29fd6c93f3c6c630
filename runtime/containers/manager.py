"""The containers of one host: create, start, stop, remove, and everything in between.

State lives in the shared ``wharf.db`` (table ``containers``), in
``root/containers/<id>/`` (upper/work dirs, log, exit file, /etc files) and in
``run/containers/<id>/`` (bundle, rootfs mount point, attach socket, pid file).
A per-container shim (``runtime.oci.shim``) outlives every Wharf process and
writes the exit file; the record here catches up with it whenever it is read,
so ``ps -a`` is right after any crash of the caller.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runtime import db, events
from runtime.containers import rootfs as rootfs_mod
from runtime.containers.cgroups import block_io, cgroup_mode, cgroup_stats, resources
from runtime.containers.config import (
    ZERO_TIME,
    merge_config,
    now_iso,
    parse_security_opts,
    parse_ulimit,
    signal_number,
)
from runtime.containers.model import Container, ContainerSpec
from runtime.errors import (
    Conflict,
    ContainerNotFound,
    InvalidArgument,
    NotFound,
    WharfError,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    image TEXT NOT NULL,
    created TEXT NOT NULL,
    spec TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL DEFAULT '',
    oom_killed INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    restart_count INTEGER NOT NULL DEFAULT 0,
    runtime TEXT NOT NULL DEFAULT '',
    manual_stop INTEGER NOT NULL DEFAULT 0,
    policy_done INTEGER NOT NULL DEFAULT 1,
    health TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS containers_image ON containers(image_id);
"""
#: columns added after the table's first version: (name, declaration), added when missing
LATER_COLUMNS = (
    ("manual_stop", "INTEGER NOT NULL DEFAULT 0"),
    ("policy_done", "INTEGER NOT NULL DEFAULT 1"),
    ("health", "TEXT NOT NULL DEFAULT ''"),
)
log = logging.getLogger("wharf.containers")
DEFAULT_STOP_TIMEOUT = 10
#: the exit code of a container whose exit nobody saw (its shim died), as Docker reports it
LOST_EXIT_CODE = 255
INIT_BINARY = "/usr/bin/tini-static"


class ContainerManager:
    """All containers of one host; the Python API under the ``wharf`` container verbs."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.paths = rt.paths
        self._conn: sqlite3.Connection | None = None
        self._oci: Any = None
        #: True in the host agent, which watches the containers it starts itself
        self.supervised_here = False
        self._held: dict[str, tuple[int, int]] = {}  # container locks held: fd, depth

    # --- plumbing --------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.paths.ensure()
            self._conn = db.connect(self.paths.db)
            db.ensure_schema(self._conn, "containers", SCHEMA)
            self._add_later_columns(self._conn)
            events.ensure_schema(self._conn)
            marker = self.paths.run / "containers.repaired"
            if not marker.exists():
                # The run dir is volatile (tmpfs): a missing marker means a fresh boot or
                # a fresh host, the moment to repair what a crash or a reboot left behind.
                self.repair()
                marker.touch()
        return self._conn

    @staticmethod
    def _add_later_columns(conn: sqlite3.Connection) -> None:
        """Bring a database made by an older Wharf up to this table's columns."""
        have = {r[1] for r in conn.execute("PRAGMA table_info(containers)")}
        missing = [(n, d) for n, d in LATER_COLUMNS if n not in have]
        if missing:
            with db.transaction(conn):
                have = {r[1] for r in conn.execute("PRAGMA table_info(containers)")}
                for name, decl in missing:
                    if name not in have:
                        conn.execute(f"ALTER TABLE containers ADD COLUMN {name} {decl}")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

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

    def _oci_for(self, c: Container) -> Any:
        return self.oci(c.runtime) if c.runtime else self.oci()

    @contextlib.contextmanager
    def _locked(self, ctr_id: str) -> Iterator[int]:
        """Serialize state changes of one container across processes; yields the lock's fd.

        Re-entrant within this manager (one thread uses a manager): recording an
        exit takes the lock too, and is also reached from code that holds it.
        """
        held = self._held.get(ctr_id)
        if held is not None:
            self._held[ctr_id] = (held[0], held[1] + 1)
            try:
                yield held[0]
            finally:
                fd, depth = self._held[ctr_id]
                self._held[ctr_id] = (fd, depth - 1)
            return
        lock_dir = self.paths.run / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_dir / ctr_id, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._held[ctr_id] = (fd, 1)
            yield fd
        finally:
            self._held.pop(ctr_id, None)
            os.close(fd)

    def _event(self, ctr_id: str, action: str, **attrs: Any) -> None:
        """Record a container event inside the caller's transaction, with Docker's attributes
        (the container's labels, ``name`` and ``image``) before the action's own."""
        row = self.conn.execute(
            "SELECT name, image, config FROM containers WHERE id=?", (ctr_id,)
        ).fetchone()
        base: dict[str, Any] = {}
        if row is not None:
            base = dict(json.loads(row["config"]).get("Labels") or {})
            base.update(image=row["image"], name=row["name"])
        events.record(self.conn, "container", action, ctr_id, **{**base, **attrs})

    def _update(self, ctr_id: str, **values: Any) -> None:
        cols = ", ".join(f"{k}=?" for k in values)
        self.conn.execute(f"UPDATE containers SET {cols} WHERE id=?", (*values.values(), ctr_id))  # noqa: S608

    # --- lookup ----------------------------------------------------------------------

    def _row_to_container(self, row: sqlite3.Row) -> Container:
        return Container(
            id=row["id"],
            name=row["name"],
            image_id=row["image_id"],
            image=row["image"],
            created=row["created"],
            spec=ContainerSpec.from_dict(json.loads(row["spec"])),
            config=json.loads(row["config"]),
            status=row["status"],
            pid=row["pid"],
            exit_code=row["exit_code"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            oom_killed=bool(row["oom_killed"]),
            error=row["error"],
            restart_count=row["restart_count"],
            runtime=row["runtime"],
            manual_stop=bool(row["manual_stop"]),
        )

    def _find(self, id_or_name: str) -> Container:
        key = id_or_name.lstrip("/")
        if not key:
            raise ContainerNotFound("No such container: ''")
        row = self.conn.execute(
            "SELECT * FROM containers WHERE id=? OR name=?", (key, key)
        ).fetchone()
        if row is None and all(ch in "0123456789abcdef" for ch in key):
            rows = self.conn.execute(
                "SELECT * FROM containers WHERE id >= ? AND id < ? LIMIT 2", (key, key + "g")
            ).fetchall()
            if len(rows) > 1:
                raise Conflict(f"multiple containers match the prefix {key!r}; give more of the id")
            row = rows[0] if rows else None
        if row is None:
            raise ContainerNotFound(f"No such container: {id_or_name}")
        return self._row_to_container(row)

    def get(self, id_or_name: str) -> Container:
        """Return a container by full id, unique id prefix or name (its state brought up to date)."""
        return self._sync(self._find(id_or_name))

    def list(self, all: bool = False) -> list[Container]:  # noqa: A002 - docker's flag
        """Return the containers, newest first; only running ones unless ``all``."""
        rows = self.conn.execute("SELECT * FROM containers ORDER BY created DESC").fetchall()
        out = [self._sync(self._row_to_container(r)) for r in rows]
        return out if all else [c for c in out if c.running or c.status == "restarting"]

    def _sync_all(self) -> None:
        for row in self.conn.execute(
            "SELECT * FROM containers WHERE status IN ('running','paused')"
        ).fetchall():
            self._sync(self._row_to_container(row))

    # --- state catch-up with the shim ---------------------------------------------------

    def _read_exit(self, ctr_id: str) -> dict | None:
        try:
            return json.loads((self.dir(ctr_id) / "exit.json").read_text())
        except (OSError, ValueError):
            return None

    def _sync(self, c: Container) -> Container:
        """Bring a running record up to date with what the shim wrote (or mark it dead)."""
        if c.status == "created" and (self.run_dir(c.id) / "pid").exists():
            c = self._adopt(c)
        if not c.running:
            return c
        info = self._read_exit(c.id)
        if info is None:
            if (c.pid and _pid_alive(c.pid)) or self._shim_alive(c.id):
                return c  # running, or exited with the shim still recording it
            info = self._read_exit(c.id)
            if info is None:
                # Docker's code for an exit nobody saw (after a crash or an unclean reboot)
                self._finish(
                    c,
                    LOST_EXIT_CODE,
                    now_iso(),
                    False,
                    "the container's monitor (shim) died; its exit code is lost",
                )
                return self._find(c.id)
        self._finish(c, int(info["exit_code"]), info["finished_at"], bool(info.get("oom_killed")))
        return self._find(c.id)

    def _adopt(self, c: Container) -> Container:
        """Record a start whose caller died after the shim started the container."""
        try:
            pid = int((self.run_dir(c.id) / "pid").read_text())
            started = (self.run_dir(c.id) / "pid").stat().st_mtime_ns
        except (OSError, ValueError):
            return c
        if not (self._shim_alive(c.id) or self._read_exit(c.id)):
            return c  # no run happened that anyone still watches: it stays "created"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started // 10**9))
        with db.transaction(self.conn):
            self.conn.execute(
                "UPDATE containers SET status='running', pid=?, started_at=? "
                "WHERE id=? AND status='created'",
                (pid, f"{stamp}.{started % 10**9:09d}Z", c.id),
            )
            self._event(c.id, "start")
        return self._find(c.id)

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

        with self._locked(c.id):
            with db.transaction(self.conn):
                cur = self.conn.execute(
                    "UPDATE containers SET status='exited', exit_code=?, finished_at=?, "
                    "oom_killed=?, error=?, pid=0, policy_done=? "
                    "WHERE id=? AND status IN ('running','paused') AND started_at=?",
                    (code, finished, int(oom), error, int(c.spec.restart == "no"), c.id)
                    + (c.started_at,),
                )
                if cur.rowcount:
                    if oom:
                        self._event(c.id, "oom")
                    ran = 0.0
                    with contextlib.suppress(WharfError, ValueError):
                        ran = (rfc3339_ns(finished) - rfc3339_ns(c.started_at)) / 1e9
                    self._event(c.id, "die", exitCode=code, execDuration=int(max(ran, 0)))
            if cur.rowcount:
                self._release_run_resources(c)

    def _release_run_resources(self, c: Container) -> None:
        """Free what only a running container holds: network, rootfs mount (idempotent)."""
        with contextlib.suppress(WharfError):
            self.rt.networks.teardown(c.id)
        with contextlib.suppress(WharfError):
            rootfs_mod.unmount(self.run_dir(c.id) / "rootfs")

    # --- create ----------------------------------------------------------------------

    def create(self, spec: ContainerSpec) -> Container:
        """Record a new container from an image; nothing runs yet."""
        spec.validate()
        block_io(spec)  # device paths and weights checked now, not at start
        image = self.rt.images.get(spec.image)
        ctr_id = os.urandom(32).hex()  # as secrets.token_hex, without its import cost
        name = spec.name.lstrip("/") if spec.name else ""
        config = merge_config(spec, image.container_config, ctr_id, image_ref=spec.image)
        if not (config.get("Entrypoint") or []) + (config.get("Cmd") or []):
            raise InvalidArgument("no command specified")
        from runtime.containers.names import random_name

        created = now_iso()
        for _ in range(20):
            candidate = name or random_name()
            try:
                with db.transaction(self.conn):
                    self.conn.execute(
                        "INSERT INTO containers (id, name, image_id, image, created, spec, config, "
                        "status, runtime) VALUES (?,?,?,?,?,?,?,?,?)",
                        (
                            ctr_id,
                            candidate,
                            image.id,
                            spec.image,
                            created,
                            json.dumps(spec.to_dict()),
                            json.dumps(config),
                            "created",
                            spec.runtime,
                        ),
                    )
                    self._event(ctr_id, "create", name=candidate, image=spec.image)
                break
            except sqlite3.IntegrityError:
                if name:
                    other = self._find(name)
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
            with contextlib.suppress(WharfError):
                self.rt.networks.release(ctr_id)
            self._discard(ctr_id)
            raise
        return self._find(ctr_id)

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
        with db.transaction(self.conn):
            self._event(ctr_id, "destroy")
            self.conn.execute("DELETE FROM containers WHERE id=?", (ctr_id,))
        shutil.rmtree(self.dir(ctr_id), ignore_errors=True)

    # --- start -----------------------------------------------------------------------

    def start(self, id_or_name: str, attach_fd: int | None = None) -> Container:
        """Start a container; a running one is left as it is (a redelivered start is harmless).

        ``attach_fd`` is one end of a socket pair the shim treats as an attached
        client from the first byte (``wharf run`` in the foreground).
        """
        c = self.get(id_or_name)
        with self._locked(c.id) as lock_fd:
            c = self.get(c.id)
            if c.status == "paused":
                raise Conflict(f"cannot start a paused container {c.name}, try unpause instead")
            if c.status == "running":
                return c
            self._start_checked(c, attach_fd, lock_fd, by_policy=False)
        self._tell_agent(c.id)
        return self._find(c.id)

    def restart_by_policy(self, ctr_id: str) -> bool:
        """Start a container again for its restart policy (the host agent calls this).

        Only a container still waiting for it (``restarting``, not stopped by a
        person since) is started; the count of policy restarts grows by one.
        Return whether it was started.
        """
        with self._locked(ctr_id) as lock_fd:
            try:
                c = self._find(ctr_id)
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
            with db.transaction(self.conn):
                self._update(c.id, error=str(exc), exit_code=exc.exit_code)
                self.conn.execute(
                    "UPDATE containers SET status='exited', policy_done=1 "
                    "WHERE id=? AND status='restarting'",
                    (c.id,),
                )
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

        oci = self._oci_for(c)
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
                pid = self._spawn_shim(c, oci, shim_binary(), attach_fd, lock_fd)
        except BaseException:
            with contextlib.suppress(WharfError):
                self.rt.networks.teardown(c.id)
            rootfs_mod.unmount(rootfs)
            raise
        with db.transaction(self.conn):
            # a person's start is a fresh start for the restart policy (Docker resets
            # RestartCount); the policy's own start counts one more
            self._update(
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
            self._event(c.id, "start")
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
        from runtime.oci.shim import shim_binary
        from runtime.oci.spec import OCIOptions, build_config

        spec, cfg = c.spec, c.config
        uid, gid, extra_gids, home = rootfs_mod.resolve_user(rootfs, cfg.get("User") or "")
        env = list(cfg.get("Env") or [])
        keys = {e.split("=", 1)[0] for e in env}
        env = [f"HOSTNAME={cfg['Hostname']}"] + [e for e in env if not e.startswith("HOSTNAME=")]
        if "HOME" not in keys:
            env.append(f"HOME={home or '/'}")
        if spec.tty and "TERM" not in keys:
            env.append("TERM=xterm")
        workdir = cfg.get("WorkingDir") or "/"
        rootfs_mod.make_workdir(rootfs, workdir, uid, gid)
        args = list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])
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
        elif not self._in_a_mount(c, args[0]):
            self._check_command(rootfs, args[0], env, workdir)

        exposed = list((cfg.get("ExposedPorts") or {}).keys())
        setup = self.rt.networks.setup(c.id, spec, c.name, exposed)
        netns = "host" if setup.netns_path is None else (setup.netns_path or None)
        hosts, resolv = setup.hosts, setup.resolv_conf
        base = self.dir(c.id)
        (base / "hostname").write_text(cfg["Hostname"] + "\n")
        (base / "hosts").write_text(hosts)
        (base / "resolv.conf").write_text(resolv)
        for name in ("hostname", "hosts", "resolv.conf"):
            mounts.append(
                {
                    "destination": f"/etc/{name}",
                    "type": "bind",
                    "source": str(base / name),
                    "options": ["rbind", "rprivate"],
                }
            )
        if self._uses_volumes(spec, self.rt.images.get(c.image_id)):
            mounts += self.rt.volumes.mounts(c.id, rootfs, pins)

        security = parse_security_opts(spec.security_opt)
        opts = OCIOptions(
            args=args,
            env=env,
            cwd=workdir,
            uid=uid,
            gid=gid,
            additional_gids=extra_gids,
            terminal=spec.tty,
            hostname=cfg["Hostname"],
            rootfs=str(rootfs),
            readonly_rootfs=spec.read_only,
            privileged=spec.privileged,
            cap_add=spec.cap_add,
            cap_drop=spec.cap_drop,
            seccomp=security.get("seccomp"),
            no_new_privileges=security.get("no-new-privileges") in ("", "true"),
            mounts=mounts,
            netns=netns,
            resources=resources(spec),
            cgroups_path=f"/wharf/{c.id}",
            ulimits=[parse_ulimit(u) for u in spec.ulimits],
            oom_score_adj=spec.oom_score_adj,
            sysctls=spec.sysctls,
            shm_size=spec.shm_size,
            userns=self._userns_range(rootfs) if spec.userns == "private" else None,
            readonly_cgroup_hook="" if cgroup_mode() == "v2" else str(shim_binary()),
            hooks=setup.hooks,
        )
        return build_config(opts)

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

    @staticmethod
    def _check_command(rootfs: Path, cmd: str, env: list[str], cwd: str) -> None:
        """Fail like Docker (127/126) before the runtime runs a command that cannot start."""
        from runtime.errors import CommandNotExecutable, CommandNotFound

        path = rootfs_mod.find_executable(rootfs, cmd, env, cwd)
        if path is None:
            raise CommandNotFound(
                f'failed to create task: exec: "{cmd}": executable file not found in $PATH'
                if "/" not in cmd
                else f'failed to create task: exec: "{cmd}": stat {cmd}: no such file or directory'
            )
        if path.is_dir() or not os.access(path, os.X_OK):
            raise CommandNotExecutable(f'failed to create task: exec: "{cmd}": permission denied')

    def _spawn_shim(
        self, c: Container, oci: Any, shim: Path, attach_fd: int | None, lock_fd: int
    ) -> int:
        """Start the container under its shim; return its pid once the runtime started it.

        The shim gets a copy of our lock on the container and keeps it until the
        start is decided, so a caller killed now leaves no window for a second start.
        """
        run, base = self.run_dir(c.id), self.dir(c.id)
        mode = cgroup_mode()
        oom_file = (
            f"/sys/fs/cgroup/wharf/{c.id}/memory.events"
            if mode == "v2"
            else f"/sys/fs/cgroup/memory/wharf/{c.id}/memory.oom_control"
        )
        argv = [
            str(shim),
            "-r",
            oci.path,
            "-i",
            c.id,
            "-b",
            str(run),
            "-S",
            str(oci.state_root),
            "-p",
            str(run / "pid"),
            "-l",
            str(base / "json.log"),
            "-e",
            str(base / "exit.json"),
            "-s",
            str(run / "attach.sock"),
            "-o",
            oom_file,
            "-m",
            str(run / "rootfs"),
        ]
        if c.spec.stdin_open:
            argv.append("-I")
        if c.spec.tty:
            argv.append("-t")
        if c.spec.auto_remove:
            argv += ["-x", self._remove_command(c.id)]
        if "max-size" in c.spec.log_opts:
            from runtime.containers.model import parse_size

            argv += [
                "-L",
                str(parse_size(c.spec.log_opts["max-size"], "max-size")),
                "-N",
                c.spec.log_opts.get("max-file", "1"),
            ]
        read_end, write_end = os.pipe()
        fds = [write_end, lock_fd]
        argv += ["-y", str(write_end), "-K", str(lock_fd)]
        if attach_fd is not None:
            argv += ["-A", str(attach_fd)]
            fds.append(attach_fd)
        try:
            proc = subprocess.Popen(
                argv,
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        with os.fdopen(read_end, "rb") as f:
            line = f.readline().decode(errors="replace").strip()
        _, err = proc.communicate()
        if line.startswith("ok "):
            return int(line.split()[1])
        from runtime.oci.runc import classify_start_error

        message = (
            line[4:] if line.startswith("err ") else (err.decode().strip() or "the shim failed")
        )
        raise classify_start_error(message)

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
        row = self.conn.execute(
            "SELECT health FROM containers WHERE id=?", (self._find(id_or_name).id,)
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def _remove_command(self, ctr_id: str) -> str:
        import shlex

        argv = [
            sys.executable,
            "-m",
            "runtime.cli.main",
            "--root",
            str(self.paths.root),
            "--run-dir",
            str(self.paths.run),
            "rm",
            "-f",
            ctr_id,
        ]
        env = f"PYTHONPATH={shlex.quote(str(Path(__file__).resolve().parents[2]))}"
        return f"{env} exec {' '.join(shlex.quote(a) for a in argv)}"

    # --- signals, stop, wait -------------------------------------------------------------

    def _require_running(self, c: Container) -> None:
        if not c.running:
            raise Conflict(f"Container {c.id} is not running")

    def kill(self, id_or_name: str, signal: str | int = "KILL") -> None:
        """Send a signal to the container's main process."""
        c = self.get(id_or_name)
        self._require_running(c)
        num = signal_number(signal)
        if c.status == "paused" and num != 9:
            raise Conflict(
                f"Container {c.id} is paused. Unpause the container before stopping or killing"
            )
        with db.transaction(self.conn):
            if num in (9, self._stop_signal(c)):
                # Docker's rule: a kill meant to end the container ends its restarts too
                self._update(c.id, manual_stop=1)
            self._event(c.id, "kill", signal=num)
        self._signal(c, num)

    @staticmethod
    def _stop_signal(c: Container) -> int:
        return signal_number(c.config.get("StopSignal") or "SIGTERM")

    def _signal(self, c: Container, num: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(c.pid, num)

    def stop(self, id_or_name: str, timeout: int | None = None) -> Container:
        """Send STOPSIGNAL, then SIGKILL after the timeout (Docker's default 10 s)."""
        c = self.get(id_or_name)
        if c.status == "restarting":
            with db.transaction(self.conn):  # the agent's pending restart sees this and gives up
                self.conn.execute(
                    "UPDATE containers SET status='exited', manual_stop=1, policy_done=1 "
                    "WHERE id=? AND status='restarting'",
                    (c.id,),
                )
                self._event(c.id, "stop")
            return self.get(c.id)
        if not c.running:
            return c
        if timeout is None:
            timeout = (
                c.spec.stop_timeout if c.spec.stop_timeout is not None else DEFAULT_STOP_TIMEOUT
            )
        if c.status == "paused":
            self._oci_for(c).resume(c.id)
            with db.transaction(self.conn):
                self._update(c.id, status="running")
        sig = self._stop_signal(c)
        with db.transaction(self.conn):
            self._update(c.id, manual_stop=1)  # before the signal: no restart may follow
            self._event(c.id, "kill", signal=sig)
        self._signal(c, sig)
        if timeout < 0 or not self._wait_exit(c.id, timeout):
            with db.transaction(self.conn):
                self._event(c.id, "kill", signal=9)
            self._signal(c, 9)
            self._wait_exit(c.id, 30)
        self.get(c.id)  # the die is recorded before the stop
        with db.transaction(self.conn):
            self._event(c.id, "stop")
        return self.get(c.id)

    def _wait_exit(self, ctr_id: str, timeout: float | None) -> bool:
        """Wait for the container to exit; True when it has (and its exit is recorded)."""
        exit_file = self.dir(ctr_id) / "exit.json"
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.002
        while not exit_file.exists():
            # The shim closes every attached client once the exit file is written.
            sock = self._connect(ctr_id)
            if sock is not None:
                with sock:
                    left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
                    sock.settimeout(left)
                    with contextlib.suppress(OSError):
                        while sock.recv(65536):
                            pass
                if deadline is not None and time.monotonic() >= deadline:
                    return exit_file.exists()
                continue
            if not self._find(ctr_id).running:
                return True
            if not exit_file.exists() and not _pid_alive(self._find(ctr_id).pid):
                self._sync(self._find(ctr_id))  # the shim is gone too: records it as dead
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return True

    def _shim_alive(self, ctr_id: str) -> bool:
        sock = self._connect(ctr_id)
        if sock is None:
            return False
        sock.close()
        return True

    def _connect(self, ctr_id: str) -> socket.socket | None:
        """Connect to the shim's attach socket (through /proc: unix paths max 108 bytes)."""
        run = self.run_dir(ctr_id)
        try:
            dfd = os.open(run, os.O_PATH)
        except OSError:
            return None
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(f"/proc/self/fd/{dfd}/attach.sock")
            except OSError:
                sock.close()
                return None
            return sock
        finally:
            os.close(dfd)

    def attach_socket(self, id_or_name: str) -> socket.socket:
        """Return a connection to a running container's stdio (frames, see the shim)."""
        c = self.get(id_or_name)
        self._require_running(c)
        sock = self._connect(c.id)
        if sock is None:
            raise Conflict(f"cannot attach to container {c.name}: its monitor does not answer")
        return sock

    def resize(self, id_or_name: str, rows: int, cols: int) -> None:
        """Set the window size of a ``-t`` container's terminal."""
        c = self.get(id_or_name)
        self._require_running(c)
        if not c.spec.tty:
            raise Conflict(f"container {c.name} has no terminal (it was not started with -t)")
        try:
            fd = os.open(self.run_dir(c.id) / "ctl", os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise Conflict(f"cannot resize the terminal of {c.name}: {exc.strerror}") from None
        try:
            os.write(fd, f"resize {int(rows)} {int(cols)}\n".encode())
        finally:
            os.close(fd)

    def wait(self, id_or_name: str, timeout: float | None = None) -> int:
        """Block until the container exits; return its exit code."""
        c = self.get(id_or_name)
        if c.running:
            self._wait_exit(c.id, timeout)
        return self.get(c.id).exit_code

    def restart(self, id_or_name: str, timeout: int | None = None) -> Container:
        """Stop and start again (a person's restart: the policy's count starts over)."""
        c = self.stop(id_or_name, timeout)
        c = self.start(c.id)
        with db.transaction(self.conn):
            self._event(c.id, "restart")
        return c

    def update_restart_policy(self, id_or_name: str, policy: str) -> None:
        """Change the restart policy of a container (``wharf update --restart``)."""
        c = self.get(id_or_name)
        spec = ContainerSpec.from_dict({**c.spec.to_dict(), "restart": policy})
        spec.validate()
        with db.transaction(self.conn):
            self._update(c.id, spec=json.dumps(spec.to_dict()))
            self._event(c.id, "update")

    def pause(self, id_or_name: str) -> None:
        """Freeze every process of the container (cgroup freezer)."""
        c = self.get(id_or_name)
        self._require_running(c)
        if c.status == "paused":
            raise Conflict(f"Container {c.id} is already paused")
        self._oci_for(c).pause(c.id)
        with db.transaction(self.conn):
            self._update(c.id, status="paused")
            self._event(c.id, "pause")

    def unpause(self, id_or_name: str) -> None:
        c = self.get(id_or_name)
        if c.status != "paused":
            raise Conflict(f"Container {c.id} is not paused")
        self._oci_for(c).resume(c.id)
        with db.transaction(self.conn):
            self._update(c.id, status="running")
            self._event(c.id, "unpause")

    def rename(self, id_or_name: str, new_name: str) -> None:
        c = self.get(id_or_name)
        new_name = new_name.lstrip("/")
        ContainerSpec(image="x", name=new_name).validate()
        try:
            with db.transaction(self.conn):
                self._update(c.id, name=new_name)
                self._event(c.id, "rename", oldName=c.name, name=new_name)
        except sqlite3.IntegrityError:
            raise Conflict(
                f'Conflict. The container name "/{new_name}" is already in use'
            ) from None

    # --- remove ----------------------------------------------------------------------

    def remove(self, id_or_name: str, force: bool = False, volumes: bool = False) -> None:
        """Remove a container and everything it holds; a running one only with ``force``."""
        c = self.get(id_or_name)
        with self._locked(c.id):
            c = self.get(c.id)
            if (c.running or c.status == "restarting") and not force:
                raise Conflict(
                    f"You cannot remove a {c.status} container {c.id}. "
                    "Stop the container before attempting removal or force remove"
                )
            if c.running:
                with db.transaction(self.conn):
                    self._update(c.id, manual_stop=1)  # gone for good: no restart
                if c.status == "paused":
                    with contextlib.suppress(WharfError):
                        self._oci_for(c).resume(c.id)
                self._signal(c, 9)
                self._wait_exit(c.id, 30)
                c = self.get(c.id)
            self._cleanup_files(c)
            with contextlib.suppress(NotFound):
                self.rt.volumes.release(c.id, remove_anonymous=volumes)
            self.rt.networks.release(c.id)
            with db.transaction(self.conn):
                self._event(c.id, "destroy")
                self.conn.execute("DELETE FROM containers WHERE id=?", (c.id,))
            shutil.rmtree(self.dir(c.id), ignore_errors=True)

    def _cleanup_files(self, c: Container) -> None:
        with contextlib.suppress(WharfError):
            self._oci_for(c).delete(c.id)
        self._release_run_resources(c)
        shutil.rmtree(self.run_dir(c.id), ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.paths.run / "locks" / c.id).unlink()

    def prune(self) -> dict:
        """Remove every stopped container; return Docker's report."""
        deleted, space = [], 0
        for c in self.list(all=True):
            if c.running or c.status == "restarting":
                continue
            space += _du(self.dir(c.id) / "upper")
            self.remove(c.id)
            deleted.append(c.id)
        return {"ContainersDeleted": deleted, "SpaceReclaimed": space}

    def repair(self) -> list[str]:
        """Fix what a crash left behind; return one line per repair made."""
        done: list[str] = []
        ids = {r[0] for r in self.conn.execute("SELECT id FROM containers")}
        for c in [
            self._row_to_container(r)
            for r in self.conn.execute(
                "SELECT * FROM containers WHERE status IN ('running','paused')"
            )
        ]:
            if self._sync(c).status != c.status:
                done.append(f"{c.id[:12]}: recorded its exit")
        running = {
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM containers WHERE status IN ('running','paused')"
            )
        }
        for parent in (self.paths.run / "containers", self.paths.root / "containers"):
            if not parent.is_dir():
                continue
            for d in parent.iterdir():
                if d.name in running or not d.is_dir():
                    continue
                with self._locked(d.name), contextlib.suppress(NotFound):
                    # asked again under the lock: a create may have added it since
                    known = self.conn.execute(
                        "SELECT 1 FROM containers WHERE id=?", (d.name,)
                    ).fetchone()
                    if known and self._sync(self._find(d.name)).running:
                        continue
                    self._repair_dir(parent, d, bool(known), done)
        # A start holds the container's lock until its bind sources are unstaged:
        # under the lock, a staging mount left there is a killed start's.
        from runtime.volumes.policy import staging_dir, unstage

        for staged in sorted(staging_dir(self.paths).glob("*.*")):
            with self._locked(staged.name.split(".")[0]):
                unstage(staged)
                done.append(f"{staged.name[:12]}: removed a stale bind staging mount {staged}")
        # The cgroup tree is shared by every Wharf root on the machine: touch only our
        # own containers', under their lock (a start in progress has an empty cgroup).
        for ctrl in Path("/sys/fs/cgroup").glob("*/wharf/*"):
            if ctrl.name in ids and ctrl.name not in running:
                with self._locked(ctrl.name), contextlib.suppress(OSError, NotFound):
                    if not self._find(ctrl.name).running:
                        ctrl.rmdir()
                        done.append(f"{ctrl.name[:12]}: removed stale cgroup {ctrl}")
        return done + self.rt.networks.repair()

    def _repair_dir(self, parent: Path, d: Path, known: bool, done: list[str]) -> None:
        if rootfs_mod.is_mounted(d / "rootfs"):
            rootfs_mod.unmount(d / "rootfs")
            done.append(f"{d.name[:12]}: unmounted a stale rootfs")
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
    ) -> Iterator[dict]:
        """Yield the container's log records ({"log","stream","time"}), following if asked."""
        from runtime.containers.logs import read_log

        c = self.get(id_or_name)
        exit_file = self.dir(c.id) / "exit.json"

        def running() -> bool:
            return self._find(c.id).running and not exit_file.exists()

        yield from read_log(
            self.dir(c.id) / "json.log",
            follow=follow,
            tail=tail,
            since=since,
            until=until,
            running=running,
        )

    # --- exec ------------------------------------------------------------------------

    def _exec_process(
        self,
        c: Container,
        cmd: list[str],
        *,
        user: str,
        workdir: str,
        env: list[str] | None,
        privileged: bool,
        terminal: bool,
    ) -> dict:
        """Return the OCI process for one more command in a running container (checked)."""
        self._require_running(c)
        if c.status == "paused":
            raise Conflict(f"Container {c.id} is paused, unpause the container before exec")
        if not cmd:
            raise InvalidArgument("no command specified for exec")
        run = self.run_dir(c.id)
        process = json.loads((run / "config.json").read_text())["process"]
        rootfs = run / "rootfs"
        if user:
            uid, gid, extra, _home = rootfs_mod.resolve_user(rootfs, user)
            process["user"] = {
                "uid": uid,
                "gid": gid,
                **({"additionalGids": extra} if extra else {}),
            }
            if uid != 0:
                process["capabilities"]["effective"] = []
                process["capabilities"]["permitted"] = []
        if workdir:
            if not rootfs_mod.check_workdir(rootfs, workdir).is_dir():
                raise InvalidArgument(
                    f"working directory {workdir} does not exist in the container"
                )
            process["cwd"] = workdir
        merged = {e.split("=", 1)[0]: e for e in process["env"]}
        if terminal and "TERM" not in merged:
            merged["TERM"] = "TERM=xterm"
        for e in env or []:
            merged[e.split("=", 1)[0]] = e
        process["env"] = list(merged.values())
        process["args"] = list(cmd)
        if privileged:
            from runtime.oci.spec import capability_set

            caps = capability_set(True, [], [])
            running = caps if process["user"]["uid"] == 0 else []
            process["capabilities"] = {"bounding": caps, "effective": running, "permitted": running}
        process["terminal"] = terminal
        self._check_command(rootfs, cmd[0], process["env"], process["cwd"])
        return process

    def _exec_event(self, ctr_id: str, exec_id: str, action: str, **attrs: Any) -> None:
        """Docker's exec events: ``exec_create: CMD``, ``exec_start: CMD``, ``exec_die``."""
        with db.transaction(self.conn):
            self._event(ctr_id, action, execID=exec_id, **attrs)

    def exec(
        self,
        id_or_name: str,
        cmd: list[str],
        *,
        user: str = "",
        workdir: str = "",
        env: list[str] | None = None,
        detach: bool = False,
        privileged: bool = False,
        stdin: Any = None,
        stdout: Any = None,
        stderr: Any = None,
    ) -> int:
        """Run one more process in a running container with the given stdio; return its exit code.

        Docker's 127/126 come as CommandNotFound/CommandNotExecutable. For a
        process with its own terminal use ``exec_tty``.
        """
        c = self.get(id_or_name)
        process = self._exec_process(
            c, cmd, user=user, workdir=workdir, env=env, privileged=privileged, terminal=False
        )
        exec_id = os.urandom(32).hex()
        proc_file = self.run_dir(c.id) / f"exec-{exec_id[:12]}.json"
        proc_file.write_text(json.dumps(process))
        self._exec_event(c.id, exec_id, f"exec_start: {' '.join(cmd)}")
        try:
            argv = self._oci_for(c).exec_argv(c.id, proc_file, detach=detach)
            code = subprocess.run(argv, stdin=stdin, stdout=stdout, stderr=stderr).returncode
        finally:
            proc_file.unlink(missing_ok=True)
        if not detach:
            self._exec_event(c.id, exec_id, "exec_die", exitCode=code)
        return code

    def exec_tty(
        self,
        id_or_name: str,
        cmd: list[str],
        *,
        user: str = "",
        workdir: str = "",
        env: list[str] | None = None,
        privileged: bool = False,
    ) -> Any:
        """Start one more process on a pty of its own (a controlling terminal, job control).

        Returns a ``TtyExec``: ``.master`` is the pty master (read/write it, resize it
        with TIOCSWINSZ, close it when done), ``.wait()`` the exit code.
        """
        from runtime.containers import exectty

        c = self.get(id_or_name)
        process = self._exec_process(
            c, cmd, user=user, workdir=workdir, env=env, privileged=privileged, terminal=True
        )
        exec_id = os.urandom(32).hex()
        self._exec_event(c.id, exec_id, f"exec_start: {' '.join(cmd)}")
        handle = exectty.start(self._oci_for(c).argv(), process, c.id)
        handle.on_exit = lambda code: self._exec_event(c.id, exec_id, "exec_die", exitCode=code)
        return handle

    # --- inspection ------------------------------------------------------------------

    def top(self, id_or_name: str, ps_args: str = "-ef") -> tuple[list[str], list[list[str]]]:
        """Return ``ps`` output (titles, rows) for the container's processes."""
        c = self.get(id_or_name)
        self._require_running(c)
        pids = set(self._oci_for(c).pids(c.id))
        out = subprocess.run(["ps", *ps_args.split()], capture_output=True, text=True).stdout
        lines = out.splitlines()
        titles = lines[0].split()
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
        self._require_running(c)
        out = cgroup_stats(c.id)
        out["net_rx"] = out["net_tx"] = 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{c.pid}/net/dev").read_text().splitlines()[2:]:
                name, _, counters = line.partition(":")
                values = counters.split()
                if name.strip() != "lo" and len(values) >= 9:
                    out["net_rx"] += int(values[0])
                    out["net_tx"] += int(values[8])
        return out

    def ports(self, id_or_name: str) -> dict:
        """Return Docker's NetworkSettings.Ports of a container ({} without the network part)."""
        c = self._find(id_or_name)
        try:
            return (self.rt.networks.settings(c.id) or {}).get("Ports") or {}
        except WharfError:
            return {}

    def inspect(self, id_or_name: str) -> dict:
        """Return Docker's inspect JSON for the container."""
        from runtime.containers.inspect import inspect_json

        c = self.get(id_or_name)
        mounts: list[dict] = []
        with contextlib.suppress(WharfError):
            mounts = self.rt.volumes.mounts_json(c.id)
        settings: dict = {}
        with contextlib.suppress(WharfError):
            settings = self.rt.networks.settings(c.id)
        return inspect_json(self, c, mounts, settings)

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
        with db.transaction(self.conn):
            self._event(c.id, "commit", image=new.id)
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
        with self._locked(c.id):
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _du(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total
