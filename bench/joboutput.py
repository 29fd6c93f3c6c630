"""Live job output end to end: lines/s from a host's batches to a viewer's websocket.

Starts the real embedded stack of the end-to-end tests (Redis with ACLs,
uvicorn, SQLite, the sweeper and an idle root worker), enrols a host played
by this script, which claims a job and posts numbered lines in batches through
the real host API, as a worker's flusher does (one batch after the other),
while a real websocket client follows the job. The clock runs from the first
post to the last line received; every line must arrive once and in order.

Run as root: ``.venv/bin/python bench/joboutput.py [--lines N] [--batch N] [--runs N]``.
Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from e2e_stack import start_stack  # noqa: E402
from fake_host import FakeHost  # noqa: E402
from websockets.sync.client import connect  # noqa: E402


def one_run(stack, host: FakeHost, lines: int, batch: int) -> float:
    """Lines/s of one job of LINES lines posted in batches of BATCH; checks order and count."""
    with stack.api() as api:
        job_id = host.create_job(api)
    host.claim(job_id)
    url = stack.web_url.replace("http://", "ws://") + f"/ws/jobs/{job_id}/"
    received: list[int] = []
    ready, done = threading.Event(), threading.Event()

    def follow() -> None:
        with connect(
            url, additional_headers={"Authorization": f"Token {stack.token}"}, max_size=2**22
        ) as ws:
            while True:
                msg = json.loads(ws.recv(timeout=120))
                if msg["type"] == "state" and not ready.is_set():
                    ready.set()
                elif msg["type"] == "line":
                    received.append(msg["seq"])
                    if len(received) == lines:
                        done.set()
                        return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    if not ready.wait(30):
        raise SystemExit("the websocket did not open")
    start = time.perf_counter()
    host.lines(job_id, (f"line {i} of the benchmark" for i in range(1, lines + 1)), 1, batch)
    if not done.wait(300):
        raise SystemExit(f"only {len(received)} of {lines} lines arrived")
    elapsed = time.perf_counter() - start
    reader.join()
    host.finish(job_id)
    if received != list(range(1, lines + 1)):
        raise SystemExit("lines arrived out of order or twice")
    return lines / elapsed


def machine() -> str:
    cpu = "?"
    for row in Path("/proc/cpuinfo").read_text().splitlines():
        if row.startswith("model name"):
            cpu = row.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    return f"{cpu}, {os.cpu_count()} CPUs, {mem} GiB, kernel {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500, help="lines per host API call")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stack = start_stack()
    try:
        host = FakeHost(stack, f"bench-{uuid.uuid4().hex[:6]}")
        try:
            rates = [one_run(stack, host, args.lines, args.batch) for _ in range(args.runs)]
        finally:
            host.close()
    finally:
        stack.stop()
    print(f"machine: {machine()}")
    print(f"{args.lines} lines in batches of {args.batch}, {args.runs} runs")
    print("lines/s: " + ", ".join(f"{r:,.0f}" for r in rates))
    print(f"median: {statistics.median(rates):,.0f} lines/s")


if __name__ == "__main__":
    main()
