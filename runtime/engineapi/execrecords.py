"""The exec instances the Engine API made, and when each is forgotten.

dockerd keeps an exec's record in memory after it ends, so the client can ask
for its exit code, and frees it later (its exec GC); a daemon that never freed
them would grow with every ``docker exec`` and healthcheck-like poller. Here a
record is freed, at the latest, ``retention`` seconds (``api_exec_retention``
in the host config) after it ended or, never started, after it was made; an
ended one a client has already inspected goes a few seconds after that look
(``docker exec`` and docker-py inspect once, right after the end); any record
goes as soon as its container is gone. A running exec is never freed.

Freeing is done by ``sweep``, which the exec routes call before each lookup,
so memory is bounded by what was made within one retention, with no thread
of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from runtime.engineapi.http import HTTPError

#: how long an ended record stays after a client has seen it ended
INSPECTED_GRACE = 5.0


class ExecRecords:
    """Exec records by id (Docker's ExecInspect fields, private ones under ``_``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}

    def add(self, record: dict[str, Any]) -> None:
        record.update(_made=time.monotonic(), _ended=None, _seen_ended=None)
        with self._lock:
            self._records[record["ID"]] = record

    def find(self, exec_id: str) -> dict[str, Any]:
        with self._lock:
            record = self._records.get(exec_id)
        if record is None:
            raise HTTPError(404, f"No such exec instance: {exec_id}")
        return record

    @staticmethod
    def ended(record: dict[str, Any]) -> None:
        """Mark the record's process as ended (its exit code is set)."""
        record["_ended"] = time.monotonic()

    @staticmethod
    def inspected(record: dict[str, Any]) -> None:
        """Note that a client saw the record after its end."""
        if record["_ended"] is not None and record["_seen_ended"] is None:
            record["_seen_ended"] = time.monotonic()

    def sweep(self, retention: float, container_exists: Callable[[str], bool]) -> None:
        """Free the records that are due (see the module docstring)."""
        now = time.monotonic()
        with self._lock:
            records = list(self._records.values())
        exists: dict[str, bool] = {}
        due = []
        for r in records:
            if r["Running"]:
                continue
            ctr = r["ContainerID"]
            if ctr not in exists:
                exists[ctr] = container_exists(ctr)
            if r["_ended"] is not None:
                deadline = r["_ended"] + retention
                if r["_seen_ended"] is not None:
                    deadline = min(deadline, r["_seen_ended"] + INSPECTED_GRACE)
            else:
                deadline = r["_made"] + retention
            if now >= deadline or not exists[ctr]:
                due.append(r["ID"])
        with self._lock:
            for exec_id in due:
                record = self._records.get(exec_id)
                if record is not None and not record["Running"]:
                    del self._records[exec_id]
