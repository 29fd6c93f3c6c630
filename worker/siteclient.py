"""The host's side of the host API: every report a worker makes to the site goes here.

Calls retry with backoff while the site or its database is briefly away
(connection errors, 502/503/504 and 5xx): output lines carry their sequence
numbers and claims their message id, so a retried call never stores twice.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per report is noise
API = "/api/host/v1"


class SiteRefused(Exception):
    """The site answered with a 4xx: retrying would not help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class SiteClient:
    def __init__(
        self, site_url: str, credential: str | None = None, *, retry_for: float = 120.0
    ) -> None:
        headers = {"Authorization": f"Host {credential}"} if credential else {}
        self.http = httpx.Client(base_url=site_url.rstrip("/"), headers=headers, timeout=30)
        self.retry_for = retry_for

    def close(self) -> None:
        self.http.close()

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body``; retry while the site is away; raise SiteRefused on a 4xx."""
        deadline = time.monotonic() + self.retry_for
        delay = 0.2
        while True:
            try:
                resp = self.http.post(f"{API}{path}", json=body)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code < 400:
                    return resp.json() if resp.content else {}
                if resp.status_code < 500:
                    try:
                        detail = resp.json().get("detail", resp.text)
                    except ValueError:
                        detail = resp.text
                    raise SiteRefused(resp.status_code, str(detail)[:500])
                problem = f"HTTP {resp.status_code}"
            if time.monotonic() + delay > deadline:
                raise ConnectionError(f"the site at {self.http.base_url} is away: {problem}")
            log.warning("site call %s failed (%s); retrying in %.1fs", path, problem, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    # --- the calls ------------------------------------------------------------------

    def enroll(self, token: str, name: str, facts: dict) -> dict:
        return self.call("/enroll/", {"token": token, "name": name, "facts": facts})

    def heartbeat(self, facts: dict | None, running: list[int]) -> dict:
        return self.call("/heartbeat/", {"facts": facts, "running": running})

    def claim(self, job: int, message: str, redelivered: bool) -> dict | None:
        """Claim a job for this run; None when the site says it is not to run."""
        try:
            return self.call(
                f"/jobs/{job}/claim/", {"message": message, "redelivered": redelivered}
            )
        except SiteRefused as exc:
            log.info("job %s not claimed: %s", job, exc.detail)
            return None

    def lines(self, job: int, lines: list[dict]) -> dict:
        return self.call(f"/jobs/{job}/lines/", {"lines": lines})

    def finish(self, job: int, state: str, result: dict, error: str, error_kind: str) -> dict:
        return self.call(
            f"/jobs/{job}/finish/",
            {"state": state, "result": result, "error": error, "error_kind": error_kind},
        )

    def download(self, job: int, dest: Path) -> int:
        """Save what the job's request uploaded to DEST, in chunks; return its size.

        The site hands it only to this host, for a job of its own that is running.
        """
        with self.http.stream("GET", f"{API}/jobs/{job}/upload/", timeout=300) as resp:
            if resp.status_code >= 400:
                resp.read()
                try:
                    detail = resp.json().get("detail", resp.text)
                except ValueError:
                    detail = resp.text
                raise SiteRefused(resp.status_code, str(detail)[:500])
            size = 0
            with open(dest, "wb") as out:
                for chunk in resp.iter_bytes(1 << 20):
                    out.write(chunk)
                    size += len(chunk)
        return size

    def rejected(self, reason: str, message: Any) -> None:
        try:
            self.call("/rejected/", {"reason": reason, "message": str(message)[:2000]})
        except (SiteRefused, ConnectionError):
            log.exception("could not report a refused message to the site")
