"""The containers' records: the ``containers`` table, their events, and their locks.

Everything else in ``runtime.containers`` reads and changes a container's
record through this one class, and other parts of the runtime (the network
part, the host agent) ask it questions instead of reading the table
themselves, so the table's shape stays a detail of this module.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from runtime import db, events
from runtime.containers.model import Container, ContainerSpec
from runtime.errors import AmbiguousPrefix, ContainerNotFound

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
#: the states in which a container has processes (the shim watches them)
LIVE_STATES = ("running", "paused")


class ContainerRecords:
    """The table of one root's containers, its container events and per-container locks.

    ``on_open`` runs once, right after the table is first opened in this process
    (the manager repairs what a crash left behind then).
    """

    def __init__(self, paths: Any, on_open: Callable[[], None] | None = None) -> None:
        self.paths = paths
        self._conn: sqlite3.Connection | None = None
        self._on_open = on_open
        self._held: dict[str, tuple[int, int]] = {}  # container locks held: fd, depth

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.paths.ensure()
            self._conn = db.connect(self.paths.db)
            db.ensure_schema(self._conn, "containers", SCHEMA)
            self._add_later_columns(self._conn)
            events.ensure_schema(self._conn)
            if self._on_open is not None:
                self._on_open()
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

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """Return one write transaction on the table (events recorded inside it go with it)."""
        return db.transaction(self.conn)

    # --- locks -----------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, ctr_id: str) -> Iterator[int]:
        """Serialize state changes of one container across processes; yields the lock's fd.

        Re-entrant within this object (one thread uses a manager): recording an
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

    def lock_file(self, ctr_id: str) -> Path:
        return self.paths.run / "locks" / ctr_id

    # --- events and changes ------------------------------------------------------------

    def event(self, ctr_id: str, action: str, **attrs: Any) -> None:
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

    def update(self, ctr_id: str, **values: Any) -> None:
        cols = ", ".join(f"{k}=?" for k in values)
        self.conn.execute(f"UPDATE containers SET {cols} WHERE id=?", (*values.values(), ctr_id))  # noqa: S608

    def insert(
        self,
        ctr_id: str,
        name: str,
        image_id: str,
        image: str,
        created: str,
        spec: ContainerSpec,
        config: dict,
    ) -> None:
        """Add a ``created`` container (inside the caller's transaction); a taken name is
        sqlite3.IntegrityError."""
        self.conn.execute(
            "INSERT INTO containers (id, name, image_id, image, created, spec, config, "
            "status, runtime) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                ctr_id,
                name,
                image_id,
                image,
                created,
                json.dumps(spec.to_dict()),
                json.dumps(config),
                "created",
                spec.runtime,
            ),
        )

    def mark_adopted(self, ctr_id: str, pid: int, started_at: str) -> None:
        """Record as running a ``created`` container whose starter died after the shim started
        it (inside the caller's transaction)."""
        self.conn.execute(
            "UPDATE containers SET status='running', pid=?, started_at=? "
            "WHERE id=? AND status='created'",
            (pid, started_at, ctr_id),
        )

    def mark_exited(self, c: Container, code: int, finished: str, oom: bool, error: str) -> bool:
        """Record the exit of the run ``c`` describes, if that run is still the recorded one;
        return whether it was (inside the caller's transaction). A container with a restart
        policy waits for the host agent's decision (``policy_done=0``)."""
        cur = self.conn.execute(
            "UPDATE containers SET status='exited', exit_code=?, finished_at=?, "
            "oom_killed=?, error=?, pid=0, policy_done=? "
            "WHERE id=? AND status IN ('running','paused') AND started_at=?",
            (code, finished, int(oom), error, int(c.spec.restart == "no"), c.id, c.started_at),
        )
        return bool(cur.rowcount)

    def end_restart(self, ctr_id: str, by_person: bool) -> None:
        """End a pending policy restart (``restarting`` becomes ``exited``); a person's stop
        also rules out later ones (inside the caller's transaction)."""
        self.conn.execute(
            "UPDATE containers SET status='exited', policy_done=1, "
            "manual_stop=CASE WHEN ? THEN 1 ELSE manual_stop END "
            "WHERE id=? AND status='restarting'",
            (int(by_person), ctr_id),
        )

    def delete(self, ctr_id: str) -> None:
        """Remove a container's row (inside the caller's transaction)."""
        self.conn.execute("DELETE FROM containers WHERE id=?", (ctr_id,))

    # --- lookup ------------------------------------------------------------------------

    @staticmethod
    def row_to_container(row: sqlite3.Row) -> Container:
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

    def find(self, id_or_name: str) -> Container:
        """Return the record of a container by full id, unique id prefix or name, as stored
        (not brought up to date with its shim: that is the manager's ``get``)."""
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
                raise AmbiguousPrefix(
                    f"multiple containers match the prefix {key!r}; give more of the id"
                )
            row = rows[0] if rows else None
        if row is None:
            raise ContainerNotFound(f"No such container: {id_or_name}")
        return self.row_to_container(row)

    def all(self) -> list[Container]:
        """Return every container's record, newest first (as stored)."""
        rows = self.conn.execute("SELECT * FROM containers ORDER BY created DESC").fetchall()
        return [self.row_to_container(r) for r in rows]

    def live(self) -> list[Container]:
        """Return the records of the containers that were running or paused when last seen."""
        rows = self.conn.execute(
            "SELECT * FROM containers WHERE status IN ('running','paused')"
        ).fetchall()
        return [self.row_to_container(r) for r in rows]

    def ids(self) -> set[str]:
        """Return the ids of every container of this root."""
        return {r[0] for r in self.conn.execute("SELECT id FROM containers")}

    def live_ids(self) -> set[str]:
        """Return the ids of the containers that were running or paused when last seen."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM containers WHERE status IN ('running','paused')"
            )
        }

    def exists(self, ctr_id: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM containers WHERE id=?", (ctr_id,)).fetchone()
            is not None
        )

    def health(self, ctr_id: str) -> dict | None:
        """Return the stored State.Health of a container, or None."""
        row = self.conn.execute("SELECT health FROM containers WHERE id=?", (ctr_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    # --- questions other parts ask (they never read the table themselves) --------------

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        """Return the names of the given containers that exist, by id."""
        wanted = list(dict.fromkeys(ids))
        out: dict[str, str] = {}
        for start in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id, name FROM containers WHERE id IN ({marks})"  # noqa: S608
            out.update({r[0]: r[1] for r in self.conn.execute(sql, chunk)})
        return out

    def _spec_list(self, ctr_id: str, key: str) -> list[str]:
        """One list field of a container's spec ([] for none, or for no such container)."""
        row = self.conn.execute("SELECT spec FROM containers WHERE id=?", (ctr_id,)).fetchone()
        return list(json.loads(row[0]).get(key) or []) if row else []

    def dns_servers(self, ctr_id: str) -> list[str]:
        """Return a container's ``--dns`` servers ([] for none, or for no such container)."""
        return self._spec_list(ctr_id, "dns")

    def links(self, ctr_id: str) -> list[str]:
        """Return a container's legacy links as recorded at create: ``ID:ALIAS``."""
        return self._spec_list(ctr_id, "links")

    def using_image(self, image_id: str) -> list[str]:
        """Return the ids of the containers made from an image."""
        rows = self.conn.execute("SELECT id FROM containers WHERE image_id=?", (image_id,))
        return [r[0] for r in rows.fetchall()]
