"""Named and anonymous volumes, and the mounts each container asked for.

Volumes live where Docker keeps them (``$WHARF_ROOT/volumes/NAME/_data``) and
survive their containers and host restarts. Which container uses which volume
is a table, so "in use" is a query, and a container's mounts are recorded at
create time (Docker's order: validate everything, then make it) and turned
into OCI mounts at each start, when the first start copies the image's content
into a still-empty volume.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime import db, events
from runtime.errors import Conflict, InvalidArgument, NotFound, VolumeNotFound, from_subprocess
from runtime.volumes.browse import list_dir
from runtime.volumes.policy import check_bind_source, stage_bind_source, staging_dir, unstage
from runtime.volumes.specs import (
    MountRequest,
    check_destination,
    check_volume_name,
    parse_mount_flag,
    parse_tmpfs_flag,
    parse_volume_flag,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL DEFAULT 'local',
    labels TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    anonymous INTEGER NOT NULL DEFAULT 0,
    copied INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS container_mounts (
    container_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    type TEXT NOT NULL,
    volume TEXT REFERENCES volumes(name),
    source TEXT NOT NULL DEFAULT '',
    readonly INTEGER NOT NULL DEFAULT 0,
    propagation TEXT NOT NULL DEFAULT '',
    nocopy INTEGER NOT NULL DEFAULT 0,
    options TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (container_id, destination)
);
CREATE INDEX IF NOT EXISTS container_mounts_volume ON container_mounts(volume);
"""


@dataclass
class Volume:
    name: str
    driver: str
    labels: dict[str, str]
    created: str
    anonymous: bool
    mountpoint: Path

    def inspect(self) -> dict[str, Any]:
        """Return Docker's ``volume inspect`` shape."""
        return {
            "CreatedAt": self.created,
            "Driver": self.driver,
            "Labels": self.labels or None,
            "Mountpoint": str(self.mountpoint),
            "Name": self.name,
            "Options": None,
            "Scope": "local",
        }


class VolumeManager:
    """Volumes of one host; see the module docstring."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.paths = rt.paths
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.paths.ensure()
            self._conn = db.connect(self.paths.db)
            db.ensure_schema(self._conn, "volumes", SCHEMA)
            events.ensure_schema(self._conn)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def base(self) -> Path:
        return self.paths.root / "volumes"

    def _data(self, name: str) -> Path:
        return self.base / name / "_data"

    # --- volumes ------------------------------------------------------------

    def create(
        self, name: str | None = None, labels: dict[str, str] | None = None, driver: str = "local"
    ) -> Volume:
        """Create a volume; an existing one of that name is returned as it is (Docker's rule)."""
        if driver != "local":
            raise InvalidArgument(f"volume driver {driver!r} is not supported (only 'local')")
        if name:
            check_volume_name(name)
            existing = self._row(name)
            if existing is not None:
                return self._volume(existing)
        with db.transaction(self.conn):
            made = self._insert(name or secrets.token_hex(32), labels or {}, anonymous=not name)
        return self.get(made)

    def get(self, name: str) -> Volume:
        row = self._row(name)
        if row is None:
            raise VolumeNotFound(f"No such volume: {name}")
        return self._volume(row)

    def list(
        self, dangling: bool | None = None, label: str | None = None, name: str | None = None
    ) -> list[Volume]:
        """List volumes; ``dangling`` keeps only unused (True) or used (False) ones."""
        rows = self.conn.execute("SELECT * FROM volumes ORDER BY name").fetchall()
        used = self._used_names()
        out = []
        for row in rows:
            vol = self._volume(row)
            if dangling is not None and (vol.name not in used) != dangling:
                continue
            if name and name not in vol.name:
                continue
            if label:
                key, eq, value = label.partition("=")
                if key not in vol.labels or (eq and vol.labels[key] != value):
                    continue
            out.append(vol)
        return out

    def files(self, name: str, path: str = "/") -> dict:
        """List one directory of the volume's files, confined to the volume (``browse``)."""
        return list_dir(self._data(self.get(name).name), path)

    def size(self, name: str) -> int:
        """Return the bytes of a volume's files (``system df``)."""
        return _du(self.base / self.get(name).name)

    def remove(self, name: str, force: bool = False) -> None:
        """Remove an unused volume and its data; ``force`` only forgives a missing one."""
        try:
            vol = self.get(name)
        except VolumeNotFound:
            if force:
                return
            raise
        users = self._users(vol.name)
        if users:
            raise Conflict(f"remove {vol.name}: volume is in use - [{', '.join(users)}]")
        with db.transaction(self.conn):
            self.conn.execute("DELETE FROM volumes WHERE name=?", (vol.name,))
            events.record(self.conn, "volume", "destroy", vol.name, driver="local")
        shutil.rmtree(self.base / vol.name, ignore_errors=True)

    def prune(self, all: bool = False, filters: Any = None) -> dict[str, Any]:  # noqa: A002
        """Remove unused anonymous volumes (all unused ones with ``all``), those ``filters``
        (a runtime.prunefilter.PruneFilter: labels) let through; return Docker's report."""
        deleted, reclaimed = [], 0
        for vol in self.list(dangling=True):
            if not (all or vol.anonymous):
                continue
            if filters and not filters.matches("", vol.labels):
                continue
            reclaimed += _du(self.base / vol.name)
            self.remove(vol.name)
            deleted.append(vol.name)
        return {"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}

    # --- a container's mounts ---------------------------------------------------

    def plan(self, ctr_id: str, spec: Any, image: Any) -> list[dict]:
        """Check and record a new container's mounts, making the volumes they name.

        Everything is validated before anything is made; on any error nothing of
        this container's mounts (no row, no directory) remains.
        """
        requests = [parse_volume_flag(v) for v in spec.volumes]
        requests += [parse_mount_flag(m) for m in spec.mounts]
        requests += [parse_tmpfs_flag(t) for t in spec.tmpfs]
        requests += self._from_other_containers(spec.volumes_from)
        seen: dict[str, MountRequest] = {}
        for req in requests:
            if req.destination in seen:
                raise InvalidArgument(f"Duplicate mount point: {req.destination}")
            seen[req.destination] = req
        for dest in sorted((image.container_config.get("Volumes") or {}).keys()):
            dest = check_destination(dest, f"image VOLUME {dest}")
            if dest not in seen:
                seen[dest] = MountRequest("volume", dest)
        binds = {
            d: check_bind_source(self.paths, r.source, r.create_host_path)
            for d, r in seen.items()
            if r.type == "bind"
        }
        made: list[str] = []
        try:
            with db.transaction(self.conn):
                for dest, req in seen.items():
                    volume, source = None, ""
                    if req.type == "volume":
                        volume = req.source or None
                        if volume is None or self._row(volume) is None:
                            volume = self._insert(
                                volume or secrets.token_hex(32), {}, anonymous=not req.source
                            )
                            made.append(volume)
                    elif req.type == "bind":
                        source = str(binds[dest])
                    self.conn.execute(
                        "INSERT INTO container_mounts (container_id, destination, type, volume, source,"
                        " readonly, propagation, nocopy, options) VALUES (?,?,?,?,?,?,?,?,?)",
                        (
                            ctr_id,
                            dest,
                            req.type,
                            volume,
                            source,
                            int(req.readonly),
                            req.propagation,
                            int(req.nocopy),
                            json.dumps(req.tmpfs_options),
                        ),
                    )
        except BaseException:
            for name in made:
                shutil.rmtree(self.base / name, ignore_errors=True)
            raise
        return self.mounts_json(ctr_id)

    def mounts(self, ctr_id: str, rootfs: Path, pins: contextlib.ExitStack) -> list[dict]:
        """Return the container's OCI mounts, parents first; copy image content into new volumes.

        Bind sources are checked again and staged (see ``stage_bind_source``);
        the staging mounts go when ``pins`` closes, after the runtime ran.
        """
        from runtime.containers.rootfs import resolve

        out = []
        for row in self._mount_rows(ctr_id):
            options = ["rbind", row["propagation"] or "rprivate"]
            if row["type"] == "tmpfs":
                opts = ["nosuid", "nodev", "noexec", *json.loads(row["options"])]
                if row["readonly"]:
                    opts.append("ro")
                out.append(
                    {
                        "destination": row["destination"],
                        "type": "tmpfs",
                        "source": "tmpfs",
                        "options": opts,
                    }
                )
                continue
            if row["type"] == "volume":
                source = self._data(row["volume"])
                if not row["nocopy"]:
                    self._copy_up(row["volume"], resolve(rootfs, row["destination"]), rootfs)
            else:
                source = staging_dir(self.paths) / f"{ctr_id}.{len(out)}"
                unstage(source)  # a leftover of a start that was killed
                stage_bind_source(self.paths, row["source"], source)
                pins.callback(unstage, source)
            if row["readonly"]:
                options.append("ro")
            out.append(
                {
                    "destination": row["destination"],
                    "type": "bind",
                    "source": str(source),
                    "options": options,
                }
            )
        return out

    @staticmethod
    def record_mounts(conn: sqlite3.Connection, ctr_id: str) -> None:
        """Record Docker's ``volume mount`` events in the start's transaction (on ``conn``,
        the caller's), so a start that failed mounted nothing."""
        for row in _volume_mounts(conn, ctr_id):
            events.record(
                conn, "volume", "mount", row["volume"], container=ctr_id, driver="local",
                destination=row["destination"], propagation=row["propagation"],
                **{"read/write": "false" if row["readonly"] else "true"},
            )  # fmt: skip

    @staticmethod
    def record_unmounts(conn: sqlite3.Connection, ctr_id: str) -> None:
        """Record Docker's ``volume unmount`` events in the exit's transaction (on ``conn``,
        the caller's, right after ``die``): the run's processes are gone, so are its
        mounts, and whoever waited for the exit finds them already told."""
        for row in _volume_mounts(conn, ctr_id):
            events.record(
                conn, "volume", "unmount", row["volume"], container=ctr_id, driver="local"
            )

    def release(self, ctr_id: str, remove_anonymous: bool) -> None:
        """Forget a removed container's mounts; with ``remove_anonymous`` drop its anonymous volumes."""
        rows = self._mount_rows(ctr_id)
        with db.transaction(self.conn):
            self.conn.execute("DELETE FROM container_mounts WHERE container_id=?", (ctr_id,))
        if not remove_anonymous:
            return
        for row in rows:
            name = row["volume"]
            if name and self._row(name)["anonymous"] and not self._users(name):
                self.remove(name)

    def mounts_json(self, ctr_id: str) -> list[dict]:
        """Return Docker's ``Mounts`` list of a container."""
        out = []
        for row in self._mount_rows(ctr_id):
            rw = not row["readonly"]
            if row["type"] == "volume":
                out.append(
                    {
                        "Type": "volume",
                        "Name": row["volume"],
                        "Source": str(self._data(row["volume"])),
                        "Destination": row["destination"],
                        "Driver": "local",
                        "Mode": "z",
                        "RW": rw,
                        "Propagation": "",
                    }
                )
            elif row["type"] == "bind":
                out.append(
                    {
                        "Type": "bind",
                        "Source": row["source"],
                        "Destination": row["destination"],
                        "Mode": "",
                        "RW": rw,
                        "Propagation": row["propagation"] or "rprivate",
                    }
                )
            else:
                out.append(
                    {
                        "Type": "tmpfs",
                        "Source": "",
                        "Destination": row["destination"],
                        "Mode": "",
                        "RW": rw,
                        "Propagation": "",
                    }
                )
        return out

    # --- internals --------------------------------------------------------------

    def _from_other_containers(self, refs: list[str]) -> list[MountRequest]:
        out = []
        for ref in refs:
            name, _, mode = ref.partition(":")
            if mode not in ("", "ro", "rw"):
                raise InvalidArgument(f"invalid --volumes-from {ref}: mode must be ro or rw")
            try:
                other = self.rt.containers.get(name)
            except NotFound as exc:
                raise InvalidArgument(
                    f"invalid --volumes-from {ref}: no such container: {name}"
                ) from exc
            for row in self._mount_rows(other.id):
                if row["type"] == "tmpfs":
                    continue
                ro = bool(row["readonly"]) if not mode else mode == "ro"
                if row["type"] == "volume":
                    out.append(
                        MountRequest("volume", row["destination"], row["volume"], ro, nocopy=True)
                    )
                else:
                    out.append(
                        MountRequest(
                            "bind", row["destination"], row["source"], ro, row["propagation"]
                        )
                    )
        return out

    def _copy_up(self, name: str, image_path: Path, rootfs: Path) -> None:
        """Fill a never-filled, empty volume with what the image has at its mount point."""
        row = self._row(name)
        if row is None or row["copied"]:
            return
        data = self._data(name)
        # resolve() kept the path inside the rootfs; a symlink or file there is not copied
        source_ok = (
            image_path.is_relative_to(rootfs)
            and image_path.is_dir()
            and not image_path.is_symlink()
        )
        if source_ok and not any(data.iterdir()):
            try:
                subprocess.run(
                    ["cp", "-a", "--", f"{image_path}/.", f"{data}/"],
                    check=True,
                    capture_output=True,
                )
            except subprocess.CalledProcessError as exc:
                raise from_subprocess(
                    exc, f"copying the image's files into volume {name}"
                ) from None
            st = image_path.stat()
            os.chown(data, st.st_uid, st.st_gid)
            data.chmod(st.st_mode & 0o7777)
        with db.transaction(self.conn):
            self.conn.execute("UPDATE volumes SET copied=1 WHERE name=?", (name,))

    def _insert(self, name: str, labels: dict[str, str], anonymous: bool) -> str:
        data = self._data(name)
        data.mkdir(parents=True, exist_ok=True)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        # OR IGNORE: a concurrent create of the same name made the same volume
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO volumes (name, labels, created, anonymous) VALUES (?,?,?,?)",
            (name, json.dumps(labels), created, int(anonymous)),
        )
        if cur.rowcount:
            events.record(self.conn, "volume", "create", name, driver="local")
        return name

    def _row(self, name: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM volumes WHERE name=?", (name,)).fetchone()

    def _volume(self, row: sqlite3.Row) -> Volume:
        return Volume(
            row["name"],
            row["driver"],
            json.loads(row["labels"]),
            row["created"],
            bool(row["anonymous"]),
            self._data(row["name"]),
        )

    def _mount_rows(self, ctr_id: str) -> list[sqlite3.Row]:
        rows = self.conn.execute(
            "SELECT * FROM container_mounts WHERE container_id=?", (ctr_id,)
        ).fetchall()
        return sorted(rows, key=lambda r: r["destination"].count("/"))

    def _users(self, name: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT container_id FROM container_mounts WHERE volume=?", (name,)
        )
        return [r[0] for r in rows]

    def _used_names(self) -> set[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT volume FROM container_mounts WHERE volume IS NOT NULL"
        )
        return {r[0] for r in rows}


def _du(path: Path) -> int:
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            continue
    return total


def _volume_mounts(conn: sqlite3.Connection, ctr_id: str) -> list[sqlite3.Row]:
    """The container's volume mounts, read on ``conn`` (maybe another part's, in its
    transaction: so the table is looked for, never made, here)."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='container_mounts'"
    ).fetchone():
        return []
    return conn.execute(
        "SELECT volume, destination, propagation, readonly FROM container_mounts "
        "WHERE container_id=? AND type='volume' ORDER BY destination",
        (ctr_id,),
    ).fetchall()
