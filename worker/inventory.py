"""Keep the site's inventory of this host: follow the runtime's event stream, reconcile now and then.

One thread beside the Celery worker (started by ``python -m worker run``):

- it asks the site for the cursor it has applied (the last event id), then
  follows ``rt.events`` from there, and posts what each batch of events
  touched, as the objects are *now* (or gone), with the batch's first and
  last id. The site applies a batch only if it starts at its stored cursor,
  in the same transaction as the new cursor: after a crash of this worker or
  a lost answer, the stream resumes at the acknowledged cursor, and nothing
  is lost or applied twice;
- every ``WHARF_INVENTORY_RECONCILE_SECONDS`` (and whenever the site says it
  lost track, e.g. after the host was unreachable) it sends a full snapshot
  of what ``wharf ps -a``, ``images``, ``volume ls`` and ``network ls`` show,
  read through the runtime's Python API, so objects made or removed behind
  the site's back (or events pruned from the stream) are caught up.
"""

from __future__ import annotations

import logging
import os
import queue
import shlex
import threading
import time
from typing import Any

from worker.siteclient import SiteClient, SiteRefused

log = logging.getLogger(__name__)
#: most events posted in one batch
BATCH = 500
#: a quiet host asks this often whether the site still follows it
CHECK_SECONDS = 10.0
_NO_TIME = "0001-01-01T00:00:00Z"


def reconcile_seconds() -> float:
    return float(os.environ.get("WHARF_INVENTORY_RECONCILE_SECONDS", "60"))


def _time(value: str) -> str | None:
    """The runtime's RFC 3339 time (nanoseconds) as one the site reads (microseconds), or None."""
    if not value or value == _NO_TIME:
        return None
    head, dot, frac = value.partition(".")
    if not dot:
        return value
    digits = "".join(ch for ch in frac if ch.isdigit())
    return f"{head}.{digits[:6]}{frac[len(digits) :]}"


# --- records: the runtime's objects in the host API's shapes (webapp.inventory.reports) ----


def container_record(rt: Any, engine_id: str) -> dict:
    d = rt.containers.inspect(engine_id)
    state, config = d["State"], d.get("Config") or {}
    settings = d.get("NetworkSettings") or {}
    host_config = d.get("HostConfig") or {}
    ports = []
    for key, bindings in sorted((settings.get("Ports") or {}).items()):
        port, _, proto = key.partition("/")
        for b in bindings or [None]:
            ports.append(
                {
                    "container_port": int(port),
                    "protocol": proto or "tcp",
                    "host_ip": b["HostIp"] if b else None,
                    "host_port": int(b["HostPort"]) if b and b.get("HostPort") else None,
                }
            )
    status = state.get("Status", "")
    return {
        "engine_id": d["Id"],
        "name": d["Name"].lstrip("/"),
        "image": config.get("Image") or "",
        "image_id": d.get("Image") or "",
        "command": shlex.join([d["Path"], *(d.get("Args") or [])]) if d.get("Path") else "",
        "state": status,
        "exit_code": state.get("ExitCode") if status in ("exited", "dead") else None,
        "oom_killed": bool(state.get("OOMKilled")),
        "health": ((state.get("Health") or {}).get("Status") or "").replace("none", ""),
        "restart_count": d.get("RestartCount") or 0,
        "ports": ports,
        "mounts": [
            {
                "type": m.get("Type", "bind"),
                "name": m.get("Name", ""),
                "source": m.get("Source", ""),
                "destination": m.get("Destination", ""),
                "rw": bool(m.get("RW", True)),
            }
            for m in d.get("Mounts") or []
        ],
        "networks": [
            {
                "name": name,
                "ip_address": n.get("IPAddress") or "",
                "mac_address": n.get("MacAddress") or "",
            }
            for name, n in sorted((settings.get("Networks") or {}).items())
        ],
        "labels": config.get("Labels") or {},
        "cpus": (host_config.get("NanoCpus") or 0) / 1e9,
        "memory": host_config.get("Memory") or 0,
        "created": _time(d.get("Created", "")),
        "started": _time(state.get("StartedAt", "")),
        "finished": _time(state.get("FinishedAt", "")),
    }


def image_record(image: Any) -> dict:
    return {
        "engine_id": image.id,
        "tags": list(image.repo_tags),
        "digests": list(image.repo_digests),
        "size": image.size,
        "labels": image.container_config.get("Labels") or {},
        "created": _time(image.created),
    }


def volume_record(vol: Any) -> dict:
    return {
        "engine_id": vol.name,
        "name": vol.name,
        "driver": vol.driver,
        "mountpoint": str(vol.mountpoint),
        "labels": vol.labels or {},
        "created": _time(vol.created),
    }


def network_record(net: Any) -> dict:
    return {
        "engine_id": net.id,
        "name": net.name,
        "driver": net.driver,
        "subnet": net.subnet or "",
        "gateway": net.gateway or "",
        "internal": bool(net.internal),
        "labels": net.labels or {},
        "created": _time(net.created),
    }


def snapshot(rt: Any) -> dict:
    """Everything this host has, read after the returned ``cursor`` (the newest event's id)."""
    from runtime.errors import NotFound

    cursor = rt.events.last_id()  # first: what happens while we read is posted after
    containers = []
    for c in rt.containers.list(all=True):
        try:
            record = container_record(rt, c.id)
            record["size_rw"], record["size_root_fs"] = rt.containers.size(c.id)
        except NotFound:
            continue  # removed while we read: its destroy event follows
        containers.append(record)
    volumes = []
    for v in rt.volumes.list():
        try:
            volumes.append({**volume_record(v), "size": rt.volumes.size(v.name)})
        except NotFound:
            continue  # removed while we read
    return {
        "cursor": cursor,
        "containers": containers,
        "images": [image_record(i) for i in rt.images.list(all=True)],
        "volumes": volumes,
        "networks": [network_record(n) for n in rt.networks.list()],
    }


def changes(rt: Any, events: list[Any]) -> list[dict]:
    """What EVENTS touched, each object once, as it is now (``object``) or gone (None)."""
    from runtime.errors import NotFound

    touched: dict[tuple[str, str], None] = {}
    for e in events:
        touched[(e.type, e.actor_id)] = None
        if e.type == "network" and e.attributes.get("container"):
            touched[("container", e.attributes["container"])] = None
        if e.type == "container" and e.action == "commit" and e.attributes.get("image"):
            touched[("image", e.attributes["image"])] = None  # the image it made
    out = []
    for kind, actor in touched:
        try:
            if kind == "container":
                record = container_record(rt, actor)
            elif kind == "image":
                record = image_record(rt.images.get(actor))
            elif kind == "volume":
                record = volume_record(rt.volumes.get(actor))
            elif kind == "network":
                record = network_record(rt.networks.get(actor))
            else:
                continue
        except NotFound:
            if kind == "image" and not actor.startswith("sha256:"):
                continue  # a name that no longer resolves; the image's own events say more
            out.append({"kind": kind, "engine_id": actor, "object": None})
            continue
        out.append({"kind": kind, "engine_id": record["engine_id"], "object": record})
    return out


# --- the thread ---------------------------------------------------------------------


class _Follow(threading.Thread):
    """Read the event stream after ``cursor`` into a queue (its own Runtime: SQLite per thread)."""

    def __init__(self, cursor: int) -> None:
        super().__init__(name="wharf-inventory-events", daemon=True)
        self.cursor = cursor
        self.events: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        from runtime import Runtime

        try:
            with Runtime() as rt:
                for e in rt.events.follow(self.cursor, stop=self.stop):
                    self.events.put(e)
        except BaseException as exc:  # noqa: BLE001 - told to the session, which starts over
            self.error = exc
            log.exception("following the event stream failed")


class InventoryFollower(threading.Thread):
    """Report this host's inventory to the site until stopped (see the module's docstring)."""

    def __init__(self, site: SiteClient, reconcile_every: float | None = None) -> None:
        super().__init__(name="wharf-inventory", daemon=True)
        self.site = site
        self.reconcile_every = reconcile_every or reconcile_seconds()
        self.stopped = threading.Event()
        self._resume_at: int | None = None

    def stop(self) -> None:
        self.stopped.set()

    def prime(self) -> None:
        """Do the start-up work before the worker takes jobs: catch the site up, start the agent.

        The first snapshot and the host agent's start cost a burst of CPU; done
        here, before Celery starts, it does not slow the first jobs down.
        """
        from runtime import Runtime
        from runtime.agent import client

        try:
            with Runtime() as rt:
                self._resume_at = self.resume(rt)
                client.call(rt.paths, "supervise")  # what follow() would start anyway
        except (SiteRefused, ConnectionError, OSError) as exc:
            log.warning("inventory start-up failed (%s); the thread tries again", exc)

    def run(self) -> None:
        from runtime import Runtime

        while not self.stopped.is_set():
            try:
                with Runtime() as rt:
                    self.session(rt, self._resume_at)
            except (SiteRefused, ConnectionError) as exc:
                log.warning("inventory report refused or site away (%s); starting over", exc)
            except Exception:  # noqa: BLE001 - the inventory must not kill the worker
                log.exception("inventory session failed; starting over")
            self.stopped.wait(1.0)

    def reconcile(self, rt: Any) -> int:
        snap = snapshot(rt)
        answer = self.site.call("/inventory/snapshot/", snap)
        log.info(
            "inventory reconciled: %d containers, %d images, %d volumes, %d networks",
            *(len(snap[k]) for k in ("containers", "images", "volumes", "networks")),
        )
        return int(answer["cursor"])

    def resume(self, rt: Any) -> int:
        """Where to follow from: the site's cursor, or after a snapshot when it lost track."""
        state = self.site.call("/inventory/cursor/", {})
        return self.reconcile(rt) if state["resync"] else int(state["cursor"])

    def session(self, rt: Any, cursor: int | None = None) -> None:
        """Post batches from CURSOR (or where ``resume`` says) until a reconcile is due."""
        self._resume_at = None
        if cursor is None:
            cursor = self.resume(rt)
        follow = _Follow(cursor)
        follow.start()
        due = time.monotonic() + self.reconcile_every
        asked = time.monotonic()
        try:
            while not self.stopped.is_set() and follow.error is None:
                left = due - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch = [follow.events.get(timeout=min(left, 0.5))]
                except queue.Empty:
                    if time.monotonic() - asked >= CHECK_SECONDS:
                        # a quiet host still learns soon that the site lost track of it
                        # (marked unreachable while only its beats were lost)
                        asked = time.monotonic()
                        state = self.site.call("/inventory/cursor/", {})
                        if state["resync"] or int(state["cursor"]) != cursor:
                            break
                    continue
                while len(batch) < BATCH:
                    try:
                        batch.append(follow.events.get_nowait())
                    except queue.Empty:
                        break
                body = {"after": cursor, "cursor": batch[-1].id, "changes": changes(rt, batch)}
                answer = self.site.call("/inventory/changes/", body)
                cursor = int(answer["cursor"])
                asked = time.monotonic()
                if answer.get("resync"):
                    break
        finally:
            follow.stop.set()
            follow.join(5)
        if not self.stopped.is_set():
            self.reconcile(rt)  # due, or asked for: the next session resumes after it
