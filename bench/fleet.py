"""The fleet end to end: REST call to a running container, jobs/s of one worker, exit to API.

Starts the real embedded stack of the end-to-end tests (Redis with ACLs,
uvicorn, the sweeper, SQLite or $DATABASE_URL's PostgreSQL) with three hosts
on this machine (root workers with their own Wharf roots, busybox in each),
then measures, as an admin with an API token:

- **run**: ``POST /api/v1/containers/`` naming no host (the scheduler spreads
  them) until the API shows the container ``running`` (its change as pushed to
  ``/ws/inventory/``, which the REST detail then answers too), one container
  at a time, ``--containers`` (200) of them; against ``docker run -d`` of the
  same busybox image (``wharf save | docker load``) on a private dockerd
  started here (own data root and socket, no network set-up), in the same
  run. Both with ``--network none``.
- **jobs/s**: ``--jobs`` (200) jobs of the no-op kind ``test.sleep`` (seconds 0)
  posted to one host, from the first POST to the last job shown ended: what
  one host's worker (concurrency 1, as the stack runs it) gets through.
- **exit**: a running container's process killed with SIGKILL behind the
  site's back, until ``/ws/inventory/`` shows it exited; ``--exits`` (50).

    sudo .venv/bin/python bench/fleet.py [--containers 200] [--jobs 200] [--exits 50] [--no-docker]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from daemon import pct  # noqa: E402
from e2e_stack import start_stack, wait_for  # noqa: E402
from joboutput import machine  # noqa: E402
from pull import DOCKER, DOCKERD, Dockerd, ensure_docker  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

WHARF = str(Path(sys.executable).parent / "wharf")


class InventoryWatch:
    """``/ws/inventory/`` followed in a thread: when each (record, state) was first shown."""

    def __init__(self, stack) -> None:  # noqa: ANN001
        url = stack.web_url.replace("http://", "ws://") + "/ws/inventory/"
        self.ws = connect(
            url, additional_headers={"Authorization": f"Token {stack.token}"}, legacy=True
        )
        if json.loads(self.ws.recv(timeout=30))["type"] != "subscribed":
            raise RuntimeError("the inventory socket did not subscribe")
        self.seen: dict[tuple[int, str], float] = {}
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for text in self.ws:
                arrived = time.perf_counter()
                obj = json.loads(text).get("object") or {}
                if "id" in obj and "state" in obj:
                    with self.changed:
                        self.seen.setdefault((obj["id"], obj["state"]), arrived)
                        self.changed.notify_all()
        except Exception:  # noqa: BLE001 - closed at the end
            return

    def wait(self, record_id: int, state: str, timeout: float = 120) -> float:
        with self.changed:
            if not self.changed.wait_for(lambda: (record_id, state) in self.seen, timeout):
                raise RuntimeError(f"container {record_id} was never shown {state}")
            return self.seen[(record_id, state)]

    def close(self) -> None:
        self.ws.close()


def stats(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(pct(times, 50) * 1000, 1),
        "p95_ms": round(pct(times, 95) * 1000, 1),
        "n": len(times),
    }


def line(what: str, s: dict[str, float]) -> None:
    print(f"{what:<44} p50 {s['p50_ms']:8.1f} ms   p95 {s['p95_ms']:8.1f} ms   (n={s['n']})")


def add_hosts(stack, count: int) -> list[str]:  # noqa: ANN001
    """The stack's host and COUNT-1 more, each with busybox in its own root and a worker."""
    names = [stack.host_name] + [f"bench-{uuid.uuid4().hex[:6]}" for _ in range(count - 1)]
    for name in names:
        if name not in stack.hosts:
            stack.enroll(name)
        subprocess.run(
            [sys.executable, "-m", "runtime.images.starter"],
            cwd=REPO,
            env=stack.hosts[name],
            check=True,
            capture_output=True,
            timeout=300,
        )
        if name != stack.host_name:
            stack.start_worker(f"worker-{name}", name)
    for name in names[1:]:
        wait_for(lambda n=name: f"wharf@{n} ready" in stack.log(f"worker-{n}"), 120, name)
    return names


def run_containers(stack, watch: InventoryWatch, count: int) -> tuple[list[float], list[dict]]:  # noqa: ANN001
    """REST call to "running" in the API, one container at a time; return times and records."""
    times, records = [], []
    with stack.api() as api:
        for i in range(count):
            body = {
                "image": "busybox",
                "name": f"fleet{i}",
                "command": ["sleep", "3600"],
                "network": "none",
            }
            start = time.perf_counter()
            r = api.post("/api/v1/containers/", json=body)
            if r.status_code != 202:
                raise RuntimeError(f"POST /api/v1/containers/ answered {r.status_code}: {r.text}")
            record = r.json()["container"]
            times.append(watch.wait(record["id"], "running") - start)
            records.append(record)
        shown = api.get(f"/api/v1/containers/{records[-1]['id']}/").json()
        if shown["state"] != "running":
            raise RuntimeError(f"the REST detail disagrees with the socket: {shown}")
    return times, records


def jobs_per_second(stack, host: str, count: int) -> float:  # noqa: ANN001
    with stack.api() as api:

        def ended() -> int:
            query = {"host": host, "kind": "test.sleep", "limit": 1}
            return sum(
                api.get("/api/v1/jobs/", params={**query, "state": s}).json()["count"]
                for s in ("succeeded", "failed", "cancelled", "expired")
            )

        before = ended()
        start = time.perf_counter()
        for _ in range(count):
            r = api.post(
                "/api/v1/jobs/",
                json={"kind": "test.sleep", "host": host, "params": {"seconds": 0}},
            )
            if r.status_code != 201:
                raise RuntimeError(f"POST /api/v1/jobs/ answered {r.status_code}: {r.text}")
        wait_for(lambda: ended() - before >= count, 600, f"{count} jobs to end", interval=0.05)
        elapsed = time.perf_counter() - start
        failed = api.get(
            "/api/v1/jobs/", params={"host": host, "kind": "test.sleep", "state": "failed"}
        ).json()["count"]
    if failed:
        raise RuntimeError(f"{failed} no-op jobs failed")
    return count / elapsed


def exits(stack, watch: InventoryWatch, records: list[dict], count: int) -> list[float]:  # noqa: ANN001
    """SIGKILL containers' processes behind the site's back; time until the API shows the exit."""
    from runtime import Runtime

    times = []
    with stack.api() as api:
        for record in records[:count]:
            shown = api.get(f"/api/v1/containers/{record['id']}/").json()
            env = stack.hosts[shown["host"]]
            with Runtime(env["WHARF_ROOT"], env["WHARF_RUN"]) as rt:
                pid = rt.containers.get(shown["engine_id"]).pid
            start = time.perf_counter()
            os.kill(pid, signal.SIGKILL)
            times.append(watch.wait(record["id"], "exited") - start)
    return times


def docker_runs(work: Path, env: dict, count: int) -> list[float]:
    """``docker run -d`` of the same image on a private dockerd, one at a time."""
    ensure_docker()
    dockerd = Dockerd(work)  # --bridge none, no iptables: it makes nothing machine-wide
    try:
        dockerd.load_from_wharf(WHARF, "busybox:latest", env)
        times = []
        for _ in range(count):
            start = time.perf_counter()
            subprocess.run(
                [DOCKER, "-H", dockerd.host, "run", "-d", "--network", "none", "busybox",
                 "sleep", "3600"],
                check=True,
                capture_output=True,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
        ids = subprocess.run(
            [DOCKER, "-H", dockerd.host, "ps", "-aq"], check=True, capture_output=True, text=True
        ).stdout.split()
        subprocess.run([DOCKER, "-H", dockerd.host, "rm", "-f", *ids], capture_output=True)
        return times
    finally:
        # only what this dockerd made: its process; no bridge, no tables to take away
        dockerd.proc.terminate()
        try:
            dockerd.proc.wait(30)
        except subprocess.TimeoutExpired:
            dockerd.proc.kill()
            dockerd.proc.wait()
        dockerd.log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--exits", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/fleet.py needs root", file=sys.stderr)
        return 1
    results: dict[str, object] = {"machine": machine(), "load": os.getloadavg()[0]}
    stack = start_stack()
    work = Path(tempfile.mkdtemp(prefix="wharf-bench-fleet-", dir="/var/tmp"))
    try:
        hosts = add_hosts(stack, args.hosts)
        watch = InventoryWatch(stack)
        try:
            run_times, records = run_containers(stack, watch, args.containers)
            results["wharf_run"] = stats(run_times)
            with stack.api() as api:
                listed = api.get(
                    "/api/v1/containers/", params={"state": "running", "limit": 1000}
                ).json()
            per_host = {h: 0 for h in hosts}
            for c in listed["results"]:
                per_host[c["host"]] = per_host.get(c["host"], 0) + 1
            results["spread"] = per_host
            results["exit_to_api"] = stats(exits(stack, watch, records, args.exits))
        finally:
            watch.close()
        results["jobs_per_second"] = round(jobs_per_second(stack, hosts[0], args.jobs), 1)
        if args.no_docker:
            results["docker"] = "not run (--no-docker)"
        else:
            try:
                results["docker_run"] = stats(
                    docker_runs(work, stack.hosts[hosts[0]], args.containers)
                )
            except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                results["docker"] = f"{DOCKERD} could not run here: {str(exc).strip()[-300:]}"
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {results['machine']} (load average at start {results['load']:.1f})")
    print(f"hosts: {len(hosts)}, containers per host: {results['spread']}")
    line("wharf: REST call -> running in the API", results["wharf_run"])
    if "docker_run" in results:
        line("docker run -d", results["docker_run"])
        w, d = results["wharf_run"], results["docker_run"]
        print(f"wharf/docker p50 {w['p50_ms'] / d['p50_ms']:.2f} (target < 1)")
    else:
        print(f"Docker's numbers are missing: {results['docker']}")
    line("wharf: SIGKILL -> exited in the API", results["exit_to_api"])
    print(f"jobs/s through one host's worker (no-op jobs): {results['jobs_per_second']}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
