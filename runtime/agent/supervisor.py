"""The host agent's watch over containers: exits, restart policies and health checks.

Docker's daemon does these duties in memory; here the long-lived host agent
does them from the database, so nothing depends on the agent having been up:

- **exits**: each running container is watched by a pidfd on its process and
  an inotify watch on its directory (the shim renames ``exit.json`` into place
  when it has recorded the exit). The agent then reads the container, which
  records ``die`` (once, whoever reads first: ``ContainerManager._finish``).
- **restart policies** (``runtime.agent.restarts``): an exit recorded with
  ``policy_done=0`` is decided here: either ``restarting`` and a start after
  Docker's growing delay, or nothing. The decision is in the row, so an agent
  that was away decides on its return.
- **health checks** (``runtime.agent.health``): one probe at a time per
  container, every interval, results and ``health_status`` events written
  with the state in one transaction.
- **takeover**: on start (after a crash, a restart of the agent, a reboot)
  every recorded container is looked at again, and every few seconds after,
  so a missed wake-up only costs time.

Everything runs in one thread with its own ``Runtime`` (SQLite connections are
not shared between threads); probes run in a small pool and report back.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import logging
import os
import queue
import select
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from runtime import Runtime, db, inotify
from runtime.agent import health as health_mod
from runtime.agent.restarts import FIRST_DELAY, next_delay, parse_policy, should_restart
from runtime.errors import NotFound, WharfError
from runtime.timefmt import rfc3339_ns

log = logging.getLogger("wharf.agent.supervisor")

#: every container is looked at again this often, whatever woke the loop
RESCAN_INTERVAL = 5.0
#: after the process exited, how often to look until the shim has recorded it
RECHECK_INTERVAL = 0.25


@dataclass
class _Watch:
    started_at: str
    pidfd: int | None
    wd: int | None
    probing: bool = False


class Supervisor:
    """Watches this root's containers from one thread (``run``); other threads ``post``."""

    def __init__(self, root: Any, run: Any) -> None:
        self.rt = Runtime(root, run)
        self.containers = self.rt.containers
        self.containers.supervised_here = True
        self.inotify = inotify.Inotify()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._watched: dict[str, _Watch] = {}
        self._by_pidfd: dict[int, str] = {}
        self._by_dir: dict[str, str] = {}
        self._timers: list[tuple[float, int, str, str, str]] = []
        self._seq = itertools.count()
        self._delays: dict[str, float] = {}
        self._probes = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")
        self.stopping = threading.Event()

    # --- the other threads' side -----------------------------------------------------

    def post(self, kind: str, *args: Any) -> None:
        """Hand the loop some work (``check`` a container id, a probe ``result``)."""
        self._queue.put((kind, args))
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"x")

    def stop(self) -> None:
        self.stopping.set()
        self.post("stop")

    # --- the loop ----------------------------------------------------------------------

    def run(self) -> None:
        """Take over every container, then watch until stopped."""
        try:
            self._rescan()
            next_rescan = time.monotonic() + RESCAN_INTERVAL
            while not self.stopping.is_set():
                now = time.monotonic()
                if now >= next_rescan:
                    self._rescan()
                    next_rescan = now + RESCAN_INTERVAL
                self._run_due_timers()
                due = self._timers[0][0] if self._timers else next_rescan
                timeout = max(0.0, min(due, next_rescan) - time.monotonic())
                fds = [self.inotify.fd, self._wake_r, *self._by_pidfd]
                try:
                    ready, _, _ = select.select(fds, [], [], timeout)
                except InterruptedError:
                    continue
                for fd in ready:
                    if fd == self._wake_r:
                        with contextlib.suppress(BlockingIOError):
                            os.read(self._wake_r, 4096)
                        self._drain_queue()
                    elif fd == self.inotify.fd:
                        for path, _mask, name in self.inotify.read():
                            if name == "exit.json" and path in self._by_dir:
                                self._guard(self._check, self._by_dir[path])
                    elif fd in self._by_pidfd:
                        self._pid_exited(fd)
        finally:
            self._probes.shutdown(wait=False, cancel_futures=True)
            for ctr_id in list(self._watched):
                self._unwatch(ctr_id)
            self.inotify.close()
            self.rt.close()

    def _guard(self, fn: Any, *args: Any) -> None:
        """Run one step; a failure is logged and retried by the next rescan, never fatal."""
        try:
            fn(*args)
        except Exception:
            log.exception("%s%r failed", getattr(fn, "__name__", fn), args)

    def _drain_queue(self) -> None:
        while True:
            try:
                kind, args = self._queue.get_nowait()
            except queue.Empty:
                return
            if kind == "check":
                self._guard(self._check, *args)
            elif kind == "result":
                self._guard(self._health_result, *args)

    # --- timers ------------------------------------------------------------------------

    def _at(self, delay: float, kind: str, ctr_id: str, key: str = "") -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), kind, ctr_id, key))

    def _pending(self, kind: str, ctr_id: str) -> bool:
        return any(t[2] == kind and t[3] == ctr_id for t in self._timers)

    def _run_due_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, ctr_id, key = heapq.heappop(self._timers)
            if kind == "restart":
                self._guard(self._restart, ctr_id)
            elif kind == "recheck":
                self._guard(self._check, ctr_id)
            elif kind == "probe":
                self._guard(self._probe, ctr_id, key)

    # --- watching ----------------------------------------------------------------------

    def _rescan(self) -> None:
        """Look at every container whose state may need this agent (takeover and safety net)."""
        conn = self.containers.conn
        rows = conn.execute(
            "SELECT id, status, policy_done FROM containers "
            "WHERE status IN ('running','paused','restarting') OR policy_done=0"
        ).fetchall()
        for ctr_id, status, policy_done in rows:
            if status == "restarting":
                if not self._pending("restart", ctr_id):
                    self._at(self._delays.get(ctr_id, FIRST_DELAY), "restart", ctr_id)
            elif ctr_id not in self._watched or not policy_done:
                self._guard(self._check, ctr_id)
        known = {r[0] for r in rows}
        for ctr_id in [i for i in self._watched if i not in known]:
            self._guard(self._check, ctr_id)

    def _check(self, ctr_id: str) -> None:
        """Read a container (recording its exit if it happened) and act on what it is now."""
        try:
            c = self.containers.get(ctr_id)
        except NotFound:
            self._unwatch(ctr_id)
            self._delays.pop(ctr_id, None)
            return
        if c.running:
            self._watch(c)
            return
        self._unwatch(ctr_id)
        if c.status in ("exited", "dead"):
            self._decide(c)

    def _watch(self, c: Any) -> None:
        w = self._watched.get(c.id)
        if w is not None and w.started_at == c.started_at:
            return
        if w is not None:
            self._unwatch(c.id)
        directory = str(self.containers.dir(c.id))
        wd = None
        with contextlib.suppress(OSError):
            wd = self.inotify.add(directory, inotify.IN_MOVED_TO | inotify.IN_CLOSE_WRITE)
            self._by_dir[directory] = c.id
        pidfd = None
        try:
            pidfd = os.pidfd_open(c.pid)
            self._by_pidfd[pidfd] = c.id
        except OSError:  # gone already (or no pid): look again soon
            self._at(RECHECK_INTERVAL, "recheck", c.id)
        self._watched[c.id] = _Watch(c.started_at, pidfd, wd)
        check = self.containers.healthcheck(c)
        if check is not None:
            interval = health_mod.timing(check)[0]
            self._at(interval, "probe", c.id, c.started_at)

    def _unwatch(self, ctr_id: str) -> None:
        w = self._watched.pop(ctr_id, None)
        if w is None:
            return
        if w.pidfd is not None:
            self._by_pidfd.pop(w.pidfd, None)
            os.close(w.pidfd)
        directory = str(self.containers.dir(ctr_id))
        if self._by_dir.pop(directory, None) is not None and w.wd is not None:
            self.inotify.remove(w.wd)

    def _pid_exited(self, pidfd: int) -> None:
        ctr_id = self._by_pidfd.pop(pidfd)
        os.close(pidfd)
        w = self._watched.get(ctr_id)
        if w is not None:
            w.pidfd = None
        self._check(ctr_id)
        if ctr_id in self._watched:  # the shim is still recording the exit
            self._at(RECHECK_INTERVAL, "recheck", ctr_id)

    # --- restart policies --------------------------------------------------------------

    def _decide(self, c: Any) -> None:
        """Apply the restart policy to a recorded exit, once (``policy_done``)."""
        conn = self.containers.conn
        row = conn.execute("SELECT policy_done FROM containers WHERE id=?", (c.id,)).fetchone()
        if row is None or row[0]:
            return
        policy = parse_policy(c.spec.restart)
        if not should_restart(policy, c.exit_code, c.manual_stop, c.restart_count):
            with db.transaction(conn):
                conn.execute("UPDATE containers SET policy_done=1 WHERE id=?", (c.id,))
            return
        ran = 0.0
        with contextlib.suppress(WharfError, ValueError):
            ran = (rfc3339_ns(c.finished_at) - rfc3339_ns(c.started_at)) / 1e9
        delay = next_delay(self._delays.get(c.id, 0.0), ran)
        with db.transaction(conn):
            cur = conn.execute(
                "UPDATE containers SET status='restarting', policy_done=1 "
                "WHERE id=? AND status IN ('exited','dead') AND policy_done=0 AND manual_stop=0",
                (c.id,),
            )
        if cur.rowcount:
            self._delays[c.id] = delay
            log.info(
                "restarting %s in %d ms (exit code %d, restart %d, policy %s)",
                c.id[:12],
                round(delay * 1000),
                c.exit_code,
                c.restart_count + 1,
                c.spec.restart,
            )
            self._at(delay, "restart", c.id)

    def _restart(self, ctr_id: str) -> None:
        try:
            started = self.containers.restart_by_policy(ctr_id)
        except WharfError as exc:
            log.warning("restarting %s failed: %s", ctr_id[:12], exc)
            return
        if started:
            self._check(ctr_id)

    # --- health checks -----------------------------------------------------------------

    def _probe(self, ctr_id: str, run_key: str) -> None:
        w = self._watched.get(ctr_id)
        if w is None or w.started_at != run_key or w.probing:
            return
        c = self.containers.get(ctr_id)
        check = self.containers.healthcheck(c)
        if check is None or c.started_at != run_key:
            return
        interval, timeout, _, _ = health_mod.timing(check)
        if c.status == "paused":
            self._at(interval, "probe", ctr_id, run_key)
            return
        proc_file = self.containers.run_dir(ctr_id) / "health-process.json"
        argv = self.containers._oci_for(c).exec_argv(ctr_id, proc_file, detach=False)
        w.probing = True

        def probe() -> None:
            try:
                result, start = health_mod.run_probe(argv, timeout)
            except Exception as exc:  # reported as a failed check, never lost
                result = {"Start": "", "End": "", "ExitCode": -1, "Output": str(exc)}
                start = time.time_ns()
            self.post("result", ctr_id, run_key, result, start)

        self._probes.submit(probe)

    def _health_result(self, ctr_id: str, run_key: str, result: dict, probe_start: int) -> None:
        w = self._watched.get(ctr_id)
        if w is not None and w.started_at == run_key:
            w.probing = False
        conn = self.containers.conn
        c = self.containers._find(ctr_id)
        check = self.containers.healthcheck(c)
        if check is None:
            return
        interval, _, start_period, retries = health_mod.timing(check)
        with db.transaction(conn):
            row = conn.execute(
                "SELECT health, started_at, status FROM containers WHERE id=?", (ctr_id,)
            ).fetchone()
            if row is None or row[1] != run_key or row[2] not in ("running", "paused"):
                return  # a result of an earlier run
            old = json.loads(row[0]) if row[0] else health_mod.initial_state()
            new = health_mod.apply_result(
                old,
                result,
                retries=retries,
                start_period=start_period,
                started_ns=rfc3339_ns(run_key),
                probe_start_ns=probe_start,
            )
            conn.execute("UPDATE containers SET health=? WHERE id=?", (json.dumps(new), ctr_id))
            if new["Status"] != old.get("Status"):
                self.containers._event(ctr_id, f"health_status: {new['Status']}")
        if w is not None and ctr_id in self._watched:
            self._at(interval, "probe", ctr_id, run_key)
