"""The host's metadata database: one SQLite file in the Wharf root.

WAL mode and one transaction per state change mean a crash never leaves a
half-written record. Each part of the runtime (images, containers, networks,
volumes) owns its tables and creates them with ``ensure_schema`` on first use,
so no central schema file has to know every part.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_ensured: set[tuple[str, str]] = set()
_ensured_lock = threading.Lock()


def connect(path: Path) -> sqlite3.Connection:
    """Open the database with the settings every caller needs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN ourselves, so a transaction is exactly
    # the ``with transaction(conn)`` block and nothing is left open by accident.
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new database to WAL; SQLite answers "locked" without waiting while two
    processes create the file at once, so retry (the mode persists once set)."""
    for attempt in range(100):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block as one write transaction, taken up front so concurrent writers queue."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def ensure_schema(conn: sqlite3.Connection, owner: str, statements: str) -> None:
    """Create an owner's tables once per process and database file."""
    (db_file,) = [row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
    key = (db_file, owner)
    with _ensured_lock:
        if key in _ensured:
            return
        # One write transaction taken up front: two processes creating tables at once
        # would otherwise meet SQLite's "locked" answer that skips the busy timeout.
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{statements}\nCOMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        _ensured.add(key)
