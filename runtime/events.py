"""The host's event stream: one durable, ordered table of what happened to every object.

Docker keeps its events in the daemon's memory; a restarted daemon (or a
listener that was away) loses them. Wharf has no daemon, and the fleet worker
turns events into database updates, so here every event is a row of the
``events`` table in ``wharf.db``, written *in the same transaction* as the
state change it records: a change is never visible without its event, and an
event never describes a change that was rolled back.

The cursor is the row id (``INTEGER PRIMARY KEY AUTOINCREMENT``): writers are
serialized by SQLite and ids only grow, so "everything after id N" is exact and
a reader that remembers N resumes after any restart without loss or repeat.

- ``record(conn, type, action, actor_id, **attributes)``: inside a caller's
  ``db.transaction``;
- ``EventLog`` (``rt.events``): ``since(cursor)`` for a batch, ``follow(cursor)``
  to wait for more (woken by inotify on the database's write-ahead log, with a
  polling fallback), ``last_id()``, and Docker's JSON shape (``Event.docker``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from runtime import db
from runtime.errors import InvalidArgument

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_nano INTEGER NOT NULL,
    type TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_time ON events(time_nano);
"""
TYPES = ("container", "image", "network", "volume")
#: events kept; older ones go as new ones come (a consumer further behind resyncs from state)
RETENTION = 500_000
#: a follower without inotify (or missing a wake-up) looks again this often
POLL_INTERVAL = 1.0


@dataclass(frozen=True)
class Event:
    """One recorded event; ``id`` is the cursor to resume after it."""

    id: int
    time_nano: int
    type: str
    action: str
    actor_id: str
    attributes: dict[str, str]

    def docker(self) -> dict[str, Any]:
        """Docker's JSON shape of an event (``docker events --format '{{json .}}'``)."""
        out: dict[str, Any] = {}
        if self.type in ("container", "image"):
            # the legacy fields Docker still sends for these two types
            out["status"] = self.action
            out["id"] = self.actor_id
            if self.type == "container" and "image" in self.attributes:
                out["from"] = self.attributes["image"]
        out.update(
            Type=self.type,
            Action=self.action,
            Actor={"ID": self.actor_id, "Attributes": dict(self.attributes)},
            scope="local",
            time=self.time_nano // 10**9,
            timeNano=self.time_nano,
        )
        return out

    def text(self) -> str:
        """Docker's one-line form: ``TIME TYPE ACTION ID (k=v, ...)``."""
        from runtime.timefmt import ns_to_rfc3339

        attrs = ", ".join(f"{k}={v}" for k, v in sorted(self.attributes.items()))
        line = f"{ns_to_rfc3339(self.time_nano)} {self.type} {self.action} {self.actor_id}"
        return f"{line} ({attrs})" if attrs else line


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the table; fold in the rows of the older ``container_events`` table once."""
    db.ensure_schema(conn, "events", SCHEMA)
    old = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='container_events'"
    ).fetchone()
    if old is None:
        return
    from runtime.timefmt import rfc3339_ns

    with db.transaction(conn):
        if conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='container_events'"
        ).fetchone():
            for _seq, when, ctr_id, action, attributes in conn.execute(
                "SELECT seq, time, container_id, action, attributes FROM container_events "
                "ORDER BY seq"
            ).fetchall():
                conn.execute(
                    "INSERT INTO events (time_nano, type, action, actor_id, attributes) "
                    "VALUES (?,?,?,?,?)",
                    (rfc3339_ns(when), "container", action, ctr_id, attributes),
                )
            conn.execute("DROP TABLE container_events")


def record(
    conn: sqlite3.Connection, type: str, action: str, actor_id: str, /, **attributes: Any
) -> None:  # noqa: A002 - Docker's field name; positional only: "type" is also an attribute
    """Add an event inside the caller's open transaction (the state change it records)."""
    if not conn.in_transaction:
        raise RuntimeError("events.record must run inside the state change's transaction")
    attrs = {k: str(v) for k, v in attributes.items() if v is not None}
    cur = conn.execute(
        "INSERT INTO events (time_nano, type, action, actor_id, attributes) VALUES (?,?,?,?,?)",
        (time.time_ns(), type, action, actor_id, json.dumps(attrs, sort_keys=True)),
    )
    new_id = cur.lastrowid or 0
    if new_id % 1000 == 0 and new_id > RETENTION:
        conn.execute("DELETE FROM events WHERE id <= ?", (new_id - RETENTION,))


class EventFilter:
    """Docker's ``--filter`` for events: same keys OR'ed, different keys AND'ed."""

    KEYS = ("type", "event", "container", "image", "network", "volume", "label")

    def __init__(self, filters: Iterable[str] = ()) -> None:
        self.wanted: dict[str, set[str]] = {}
        for item in filters:
            key, sep, value = item.partition("=")
            if not sep or key not in self.KEYS:
                raise InvalidArgument(
                    f"invalid filter {item!r}: use one of {', '.join(self.KEYS)} as KEY=VALUE"
                )
            if key == "type" and value not in TYPES:
                raise InvalidArgument(f"invalid filter type={value}: use one of {', '.join(TYPES)}")
            self.wanted.setdefault(key, set()).add(value)

    def matches(self, e: Event) -> bool:
        w, attrs = self.wanted, e.attributes
        if "type" in w and e.type not in w["type"]:
            return False
        if "event" in w and e.action not in w["event"] and e.action.split(":")[0] not in w["event"]:
            return False
        for key in ("container", "network", "volume"):
            if key in w and not (e.type == key and self._names_it(e, w[key])):
                return False
        if "image" in w and not (
            (e.type == "image" and self._names_it(e, w["image"]))
            or (e.type == "container" and attrs.get("image") in w["image"])
        ):
            return False
        if "label" in w:
            for label in w["label"]:
                k, sep, v = label.partition("=")
                if k not in attrs or (sep and attrs[k] != v):
                    return False
        return True

    @staticmethod
    def _names_it(e: Event, values: set[str]) -> bool:
        name = e.attributes.get("name", "")
        return any(v in (e.actor_id, name) or e.actor_id.startswith(v) for v in values)


def _row(r: sqlite3.Row | tuple) -> Event:
    return Event(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]))


class EventLog:
    """The event stream of one host (``rt.events``)."""

    def __init__(self, paths: Any) -> None:
        self.paths = paths
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.paths.ensure()
            self._conn = db.connect(self.paths.db)
            ensure_schema(self._conn)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def record(self, type: str, action: str, actor_id: str, /, **attributes: Any) -> None:  # noqa: A002
        """Record an event that changes no state of its own (``image save``, ``image push``)."""
        with db.transaction(self.conn):
            record(self.conn, type, action, actor_id, **attributes)

    def last_id(self) -> int:
        """The newest event's id: a cursor meaning "from now on"."""
        row = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()
        return int(row[0])

    def since(
        self,
        cursor: int = 0,
        *,
        filters: Iterable[str] | EventFilter = (),
        since_nano: int | None = None,
        until_nano: int | None = None,
        limit: int = 10_000,
    ) -> list[Event]:
        """Return up to ``limit`` events after ``cursor`` (oldest first), filtered.

        The batch may be shorter than ``limit`` even when more match later rows;
        page with ``since(batch[-1].id)`` until it comes back empty. Filtered-out
        rows still advance a caller that uses :meth:`follow`.
        """
        flt = filters if isinstance(filters, EventFilter) else EventFilter(filters)
        return [e for e in self._rows(cursor, since_nano, until_nano, limit) if flt.matches(e)]

    def replay(
        self,
        cursor: int = 0,
        *,
        filters: Iterable[str] | EventFilter = (),
        since_nano: int | None = None,
        until_nano: int | None = None,
    ) -> Iterator[Event]:
        """Yield every recorded event after ``cursor`` (filtered), then stop: no waiting."""
        flt = filters if isinstance(filters, EventFilter) else EventFilter(filters)
        while batch := self._rows(cursor, since_nano, until_nano, 1000):
            for e in batch:
                cursor = e.id
                if flt.matches(e):
                    yield e

    def _rows(
        self, cursor: int, since_nano: int | None, until_nano: int | None, limit: int
    ) -> list[Event]:
        sql = "SELECT id, time_nano, type, action, actor_id, attributes FROM events WHERE id > ?"
        args: list[Any] = [cursor]
        if since_nano is not None:
            sql += " AND time_nano >= ?"
            args.append(since_nano)
        if until_nano is not None:
            sql += " AND time_nano <= ?"
            args.append(until_nano)
        sql += " ORDER BY id LIMIT ?"
        args.append(limit)
        return [_row(r) for r in self.conn.execute(sql, args).fetchall()]

    def follow(
        self,
        cursor: int = 0,
        *,
        filters: Iterable[str] | EventFilter = (),
        since_nano: int | None = None,
        until_nano: int | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Event]:
        """Yield the events after ``cursor`` as they are committed, until ``until_nano`` or ``stop``.

        Exits are recorded by the host agent, which this starts if it is not
        running, so a follower sees ``die`` even when no other Wharf process runs.
        """
        from runtime.agent import client

        flt = filters if isinstance(filters, EventFilter) else EventFilter(filters)
        client.call(self.paths, "supervise")
        watcher = _WalWatcher(self.paths)
        try:
            while stop is None or not stop.is_set():
                batch = self._rows(cursor, since_nano, until_nano, 1000)
                for e in batch:
                    cursor = e.id
                    if flt.matches(e):
                        yield e
                if until_nano is not None and time.time_ns() > until_nano:
                    # one more look: a transaction may have committed an older time late
                    if not self._rows(cursor, since_nano, until_nano, 1):
                        return
                    continue
                if not batch:
                    timeout = POLL_INTERVAL
                    if until_nano is not None:
                        timeout = min(timeout, max(until_nano - time.time_ns(), 0) / 1e9 + 0.01)
                    watcher.wait(timeout)
        finally:
            watcher.close()


class _WalWatcher:
    """Wakes a follower when any process writes the database (its WAL file in the root dir)."""

    def __init__(self, paths: Any) -> None:
        self.names = {paths.db.name + "-wal", paths.db.name}
        self.inotify: Any = None
        try:
            from runtime import inotify

            self.inotify = inotify.Inotify()
            self.inotify.add(
                paths.db.parent, inotify.IN_MODIFY | inotify.IN_CREATE | inotify.IN_MOVED_TO
            )
        except OSError:
            self.close()

    def wait(self, timeout: float) -> None:
        if self.inotify is None:
            time.sleep(timeout)
            return
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if any(name in self.names for _p, _m, name in self.inotify.wait(left)):
                return

    def close(self) -> None:
        if self.inotify is not None:
            self.inotify.close()
            self.inotify = None
