"""Job kind "test.sleep": sleeps and prints, so fault tests can kill, cancel and time out a job.

Registered only where the worker runs with WHARF_TEST_JOBS=1 (the site offers
the kind only with the same setting).
"""

from __future__ import annotations

import time

from celery.exceptions import SoftTimeLimitExceeded

from worker.runner import JobContext, handles


@handles("test.sleep")
def sleep(ctx: JobContext) -> dict:
    seconds = float(ctx.params.get("seconds", 0))
    for i in range(int(ctx.params.get("lines", 0))):
        ctx.log(f"line {i}")
    ctx.log(f"sleeping {seconds}s")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            ctx.check_cancelled()
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        except SoftTimeLimitExceeded:
            if not ctx.params.get("ignore_soft_limit"):
                raise
            ctx.log("ignoring the soft time limit")
    ctx.log("woke up")
    return {"slept": seconds}
