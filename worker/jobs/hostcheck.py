"""Job kind "host.check": prove this host can run containers, line by line."""

from __future__ import annotations

from runtime.hostcheck import run_checks
from worker.runner import JobContext, JobFailed, handles


@handles("host.check")
def host_check(ctx: JobContext) -> dict:
    results = []
    for result in run_checks():
        ctx.check_cancelled()
        ctx.log(result.line(), "stdout" if result.ok else "stderr")
        results.append({"check": result.name, "ok": result.ok, "detail": result.detail})
    failed = [r["check"] for r in results if not r["ok"]]
    summary = {"checks": results, "passed": len(results) - len(failed), "failed": len(failed)}
    if failed:
        raise JobFailed(
            f"{len(failed)} of {len(results)} checks failed: {', '.join(failed)}", summary
        )
    ctx.log(f"all {len(results)} checks passed")
    return summary
