"""Docker's health checks: the command, the defaults, and how results move the status.

The host agent runs each check on schedule (``runtime.agent.supervisor``), one
way for every container: Docker's daemon does the same, so a check sees the
container exactly as ``exec`` does. The rules here are pure and follow moby's
``daemon/health.go``: ``starting`` until the first success; a failure counts
only after the start period (while still ``starting``); ``unhealthy`` after
``Retries`` failures in a row; the last five results are kept, each output cut
to 4 KiB; a check longer than its timeout fails with Docker's message.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

from runtime.timefmt import ns_to_rfc3339

DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_START_PERIOD = 0.0
DEFAULT_RETRIES = 3
MAX_LOG_ENTRIES = 5
MAX_OUTPUT = 4096
TIMEOUT_OUTPUT = "Health check exceeded timeout"


def check_argv(test: list[str]) -> list[str]:
    """The process of a Healthcheck.Test (``CMD-SHELL cmd`` runs under /bin/sh -c)."""
    if test and test[0] == "CMD":
        return list(test[1:])
    if test and test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    return ["/bin/sh", "-c", " ".join(test)]


def timing(check: dict) -> tuple[float, float, float, int]:
    """(interval, timeout, start period) in seconds and retries, Docker's defaults for zeros."""

    def seconds(key: str, default: float) -> float:
        return int(check.get(key) or 0) / 1e9 or default

    return (
        seconds("Interval", DEFAULT_INTERVAL),
        seconds("Timeout", DEFAULT_TIMEOUT),
        seconds("StartPeriod", DEFAULT_START_PERIOD),
        int(check.get("Retries") or DEFAULT_RETRIES),
    )


def initial_state() -> dict[str, Any]:
    """State.Health of a container just started."""
    return {"Status": "starting", "FailingStreak": 0, "Log": []}


def apply_result(
    state: dict[str, Any],
    result: dict[str, Any],
    *,
    retries: int,
    start_period: float,
    started_ns: int,
    probe_start_ns: int,
) -> dict[str, Any]:
    """Return the new State.Health after one result ({Start, End, ExitCode, Output})."""
    new = {
        "Status": state.get("Status", "starting"),
        "FailingStreak": int(state.get("FailingStreak", 0)),
        "Log": (list(state.get("Log") or []) + [result])[-MAX_LOG_ENTRIES:],
    }
    if result["ExitCode"] == 0:
        new["FailingStreak"] = 0
        new["Status"] = "healthy"
        return new
    in_start_period = (
        new["Status"] == "starting" and (probe_start_ns - started_ns) / 1e9 < start_period
    )
    if not in_start_period:
        new["FailingStreak"] += 1
        if new["FailingStreak"] >= retries:
            new["Status"] = "unhealthy"
    return new


def run_probe(argv: list[str], timeout: float) -> tuple[dict[str, Any], int]:
    """Run one check (``argv`` is the OCI runtime's exec); return its result and start time."""
    start = time.time_ns()
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        output = (proc.stdout + proc.stderr)[:MAX_OUTPUT].decode(errors="replace")
    except subprocess.TimeoutExpired:
        code, output = -1, TIMEOUT_OUTPUT
    except OSError as exc:
        code, output = -1, f"cannot run the health check: {exc.strerror}"
    end = time.time_ns()
    result = {
        "Start": ns_to_rfc3339(start),
        "End": ns_to_rfc3339(end),
        "ExitCode": code,
        "Output": output,
    }
    return result, start
