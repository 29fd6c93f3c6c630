"""A host played by the test itself: enrolled like a real one, reporting through the real host API.

The end-to-end tests of live output need to decide exactly when a job is
silent, when it prints and how much, which a real job cannot promise. This
host claims the job with the message id the site sent, posts numbered lines
in batches and ends the job with ``worker.siteclient.SiteClient`` — the very
client a worker uses — and beats like a worker so the sweeper keeps it online.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import httpx
from e2e_stack import Stack

from worker.siteclient import SiteClient


class FakeHost:
    def __init__(self, stack: Stack, name: str) -> None:
        self.stack = stack
        self.name = name
        token = stack.manage("hosts", "token", "--name", name).strip()
        r = httpx.post(
            f"{stack.web_url}/api/host/v1/enroll/",
            json={"token": token, "name": name, "facts": {"kernel": "fake"}},
            timeout=30,
        )
        assert r.status_code == 201, f"{r.status_code}; web log: {stack.log('web')[-3000:]}"
        self.site = SiteClient(stack.web_url, r.json()["credential"], retry_for=10)
        self.running: set[int] = set()
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._beat_loop, daemon=True)
        self._beat.start()

    def _beat_loop(self) -> None:
        while not self._stop.wait(1.0):
            self.site.heartbeat(None, sorted(self.running))

    def create_job(self, api: httpx.Client) -> int:
        """Ask the REST API for a job on this host, as a user would; return its id."""
        r = api.post("/api/v1/jobs/", json={"kind": "host.check", "host": self.name})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def claim(self, job_id: int) -> None:
        """Claim JOB_ID with the message id the site sent (a worker reads it from its queue)."""
        out = self.stack.manage(
            "shell",
            "-c",
            f"from webapp.jobs.models import Job; print('MID', Job.objects.get(pk={job_id}).message_id)",
        )
        message = out.split("MID")[-1].strip()
        self.running.add(job_id)
        assert self.site.claim(job_id, message, False) is not None

    def lines(self, job_id: int, texts: Iterable[str], first_seq: int, batch: int = 500) -> int:
        """Post TEXTS numbered from FIRST_SEQ in batches of BATCH; return the next seq."""
        seq, pending = first_seq, []
        for text in texts:
            pending.append({"seq": seq, "stream": "stdout", "text": text})
            seq += 1
            if len(pending) == batch:
                self.site.lines(job_id, pending)
                pending = []
        if pending:
            self.site.lines(job_id, pending)
        return seq

    def finish(self, job_id: int, state: str = "succeeded") -> None:
        self.site.finish(job_id, state, {}, "", "")
        self.running.discard(job_id)

    def close(self) -> None:
        self._stop.set()
        self._beat.join(timeout=5)
        self.site.close()
