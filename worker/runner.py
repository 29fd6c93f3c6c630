"""The one task that runs every job: check the message, claim the job, run its handler, report.

Handlers are plain functions registered with ``@handles(kind)``; they get a
``JobContext`` to log lines and return a JSON-ready result. This module owns
the message check, the claim, output batching, cancellation, time limits and
traceback capture, so a handler is a few lines that call ``runtime``. Every
report goes to the site through the host API: a worker holds no database.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from worker.hostconfig import HostConfig
from worker.siteclient import SiteClient
from worker.verify import BadMessage, verify

log = logging.getLogger(__name__)
Handler = Callable[["JobContext"], dict | None]
HANDLERS: dict[str, Handler] = {}
FLUSH_SECONDS = 0.2  # output reaches viewers within this, in batches
POLL_SECONDS = 2.0  # a quiet job still asks this often whether it was cancelled
BATCH_LINES = 500


class JobFailed(Exception):
    """A handler's way to fail a job with a message and a partial result."""

    def __init__(self, message: str, result: dict | None = None, kind: str = "error") -> None:
        super().__init__(message)
        self.result = result or {}
        self.kind = kind


class JobCancelled(Exception):
    """Raised by ``JobContext.check_cancelled`` once someone cancelled the running job."""


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler of one job kind."""

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return register


class JobContext:
    """What a handler sees: its job's parameters, a way to report output, a cancel flag.

    Lines are numbered here (continuing from what the site stored, for a job
    that runs again) and sent in batches by a flusher thread, which also
    learns from the site's answers whether the job was cancelled.
    """

    def __init__(self, site: SiteClient, job_id: int, claim: dict) -> None:
        self.site = site
        self.job_id = job_id
        self.kind: str = claim["kind"]
        self.params: dict[str, Any] = claim.get("params") or {}
        #: a push job's registry credentials (username, password), from its claim only:
        #: kept apart from params so nothing that prints params can print them
        cred = claim.get("credentials") or {}
        self.credentials: tuple[str, str] | None = (
            (cred["username"], cred["password"]) if cred.get("username") else None
        )
        #: what the runtime gets as the idempotency key of what it creates
        self.idempotency_key = f"wharf.job={job_id}"
        self.seq = int(claim.get("last_seq") or 0)
        #: which run of the job this is; an earlier one may have left work to find (1: none did)
        self.attempt = int(claim.get("attempt") or 0)
        self.cancelled = threading.Event()
        self._pending: list[dict] = []
        self._lock = threading.Lock()  # guards seq and _pending
        self._send_lock = threading.Lock()  # one batch on the wire at a time, in order
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, daemon=True)
        self._flusher.start()

    def log(self, text: str, stream: str = "stdout") -> None:
        """Queue one line (or several) for the site, numbered in order."""
        with self._lock:
            for piece in str(text).splitlines() or [""]:
                self.seq += 1
                self._pending.append({"seq": self.seq, "stream": stream, "text": piece})
            full = len(self._pending) >= BATCH_LINES
        if full:
            self.flush()

    def check_cancelled(self) -> None:
        """Stop the handler here if the job was cancelled (call between steps)."""
        if self.cancelled.is_set():
            raise JobCancelled("cancelled while running")

    def flush(self) -> None:
        """Send what is pending. The handler's thread and the flusher both call this:
        batches go one at a time so the site receives them in order, and a batch
        that could not be sent goes back in front to be sent again (the site
        ignores a sequence number it already has)."""
        with self._send_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            try:
                answer = self.site.lines(self.job_id, batch)
            except BaseException:
                with self._lock:
                    self._pending[:0] = batch
                raise
        if answer.get("cancel"):
            self.cancelled.set()

    def _flush_loop(self) -> None:
        idle = 0.0
        while not self._stop.wait(FLUSH_SECONDS):
            idle += FLUSH_SECONDS
            if self._pending or idle >= POLL_SECONDS:
                idle = 0.0
                try:
                    self.flush()
                except Exception:  # noqa: BLE001 - the final flush reports for good
                    log.exception("sending output of job %s failed", self.job_id)

    def close(self) -> None:
        self._stop.set()
        self._flusher.join()
        self.flush()


def run_job(
    cfg: HostConfig, site: SiteClient, envelope: Any, message_id: str, redelivered: bool = False
) -> str:
    """Run one job message to its end; return what happened. Safe to call twice."""
    try:
        fields = verify(envelope, cfg.public_key, cfg.host_name)
        if fields["message"] != message_id:
            raise BadMessage("the message's id is not the one its envelope was signed with")
    except BadMessage as exc:
        log.warning("refusing a job message: %s", exc)
        site.rejected(str(exc), envelope)
        return "rejected"
    job_id = fields["job"]
    claim = site.claim(job_id, message_id, redelivered)
    if claim is None:
        return "not claimed"
    if not isinstance(claim, dict) or "kind" not in claim:
        site.finish(
            job_id, "failed", {}, f"the site's claim answer made no sense: {claim!r:.200}", "error"
        )
        return "failed"
    ctx = JobContext(site, job_id, claim)
    state, result, error, kind = "succeeded", {}, "", ""
    try:
        handler = HANDLERS.get(ctx.kind)
        if handler is None:
            raise JobFailed(f"this worker has no handler for job kind {ctx.kind!r}")
        result = handler(ctx) or {}
        if ctx.cancelled.is_set():
            state, error, kind = (
                "cancelled",
                "cancelled while running; it ran to its end",
                "cancelled",
            )
    except JobCancelled as exc:
        state, error, kind = "cancelled", str(exc), "cancelled"
    except SoftTimeLimitExceeded:
        state, error, kind = (
            "failed",
            "time limit: the job ran past its limit and was stopped",
            "time_limit",
        )
    except JobFailed as exc:
        state, result, error, kind = "failed", exc.result, str(exc), exc.kind
    except Exception as exc:  # noqa: BLE001 - a job's failure is data, not a worker crash
        from runtime.errors import WharfError

        if not isinstance(exc, WharfError):
            for line in traceback.format_exc().splitlines():
                ctx.log(line, "stderr")
        state, error = "failed", str(exc) or type(exc).__name__
        kind = getattr(exc, "kind", "error") if isinstance(exc, WharfError) else "error"
    if error:
        ctx.log(error, "stderr")
    ctx.close()
    site.finish(job_id, state, result, error, kind)
    return state
