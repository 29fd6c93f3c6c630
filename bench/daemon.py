"""The daemon's duties timed: exit-to-subscriber event latency and restart under ``always``.

Wharf and Docker, same run, same busybox image (Debian's busybox-static via
``runtime.images.starter``, loaded into a private dockerd with ``wharf save |
docker load``), both with ``--network none``:

- **events**: a subscriber (``wharf events`` / ``docker events``, JSON, filtered
  to ``die``) runs as its own process; the benchmark kills a running
  container's process with SIGKILL and times until the subscriber prints that
  container's ``die`` line. p50/p99 over ``--exits`` (200) exits.
- **restart**: a container run with ``--restart always`` has its process
  killed with SIGKILL; timed until the subscriber prints its next ``start``
  (each container is killed once, so every sample is a first restart with
  the policy's 100 ms delay, which both tools apply). p50/p99 over
  ``--restarts`` (30) containers.

The Docker side starts a private dockerd (Debian's docker.io, installed if
missing; own data root and socket, no network set-up); without it, or with
``--no-docker``, only Wharf's numbers are printed, with the reason.

    sudo .venv/bin/python bench/daemon.py [--exits 200] [--restarts 30] [--no-docker]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))

from pull import DOCKER, DOCKERD, Dockerd, ensure_docker  # noqa: E402
from start import release  # noqa: E402

WHARF = [sys.executable, "-m", "runtime.cli.main"]
BATCH = 20


class Subscriber:
    """An events CLI as its own process; each JSON line is queued with the time it arrived."""

    def __init__(self, argv: list[str], env: dict | None = None) -> None:
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), json.loads(line)))

    def wait_for(self, ctr_id: str, action: str, timeout: float = 60) -> float:
        """Return the arrival time of ``ctr_id``'s next ``action`` event."""
        deadline = time.monotonic() + timeout
        while True:
            arrived, event = self.lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            actor = event.get("Actor", {}).get("ID", "")
            if actor == ctr_id and event.get("Action") == action:
                return arrived

    def drain(self) -> None:
        while not self.lines.empty():
            self.lines.get_nowait()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Tool:
    """The few operations the benchmark needs, for one of the two."""

    name: str
    events_argv: list[str]
    env: dict | None = None

    def run(self, *flags: str) -> str:
        raise NotImplementedError

    def pid(self, ctr_id: str) -> int:
        raise NotImplementedError

    def remove(self, ids: list[str]) -> None:
        raise NotImplementedError


class WharfTool(Tool):
    name = "wharf"

    def __init__(self, work: Path) -> None:
        from runtime import Runtime

        self.env = {
            **os.environ,
            "WHARF_ROOT": str(work / "root"),
            "WHARF_RUN": str(work / "run"),
            "PYTHONPATH": str(REPO),
        }
        self.rt = Runtime(work / "root", work / "run")
        self.events_argv = [*WHARF, "events", "--format", "json"]

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [*WHARF, *args], env=self.env, check=True, capture_output=True, text=True
        ).stdout

    def run(self, *flags: str) -> str:
        return self.cli(
            "run", "-d", "--network", "none", *flags, "busybox", "sleep", "3600"
        ).strip()

    def pid(self, ctr_id: str) -> int:
        return self.rt.containers.get(ctr_id).pid

    def remove(self, ids: list[str]) -> None:
        self.cli("rm", "-f", *ids)


class DockerTool(Tool):
    name = "docker"

    def __init__(self, dockerd: Dockerd) -> None:
        self.host = dockerd.host
        self.events_argv = [DOCKER, "-H", self.host, "events", "--format", "{{json .}}"]

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [DOCKER, "-H", self.host, *args], check=True, capture_output=True, text=True
        ).stdout

    def run(self, *flags: str) -> str:
        return self.cli(
            "run", "-d", "--network", "none", *flags, "busybox", "sleep", "3600"
        ).strip()

    def pid(self, ctr_id: str) -> int:
        return int(self.cli("inspect", "-f", "{{.State.Pid}}", ctr_id))

    def remove(self, ids: list[str]) -> None:
        self.cli("rm", "-f", *ids)


def kill_and_time(tool: Tool, sub: Subscriber, ctr_id: str, action: str) -> float:
    """SIGKILL the container's process; return the seconds until ``action`` reached ``sub``."""
    pid = tool.pid(ctr_id)
    sub.drain()
    start = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    return sub.wait_for(ctr_id, action) - start


def sample(tool: Tool, total: int, flags: tuple[str, ...], action: str) -> list[float]:
    """Start containers ``BATCH`` at a time, kill each once, time ``action``."""
    sub = Subscriber([*tool.events_argv, "--filter", f"event={action}"], tool.env)
    try:
        time.sleep(1)  # the subscriber is listening
        times: list[float] = []
        while len(times) < total:
            ids = [tool.run(*flags) for _ in range(min(BATCH, total - len(times)))]
            for ctr_id in ids:
                times.append(kill_and_time(tool, sub, ctr_id, action))
            tool.remove(ids)
        return times
    finally:
        sub.close()


def load_into_docker(wharf: WharfTool, dockerd: Dockerd) -> None:
    """``wharf save busybox | docker load``: the same bytes in both."""
    save = subprocess.Popen(
        [*WHARF, "save", "busybox:latest"], env=wharf.env, stdout=subprocess.PIPE
    )
    subprocess.run(
        [DOCKER, "-H", dockerd.host, "load"], stdin=save.stdout, check=True, capture_output=True
    )
    if save.wait():
        raise RuntimeError("wharf save busybox failed")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(what: str, times: list[float]) -> dict[str, float]:
    p50, p99 = pct(times, 50) * 1000, pct(times, 99) * 1000
    print(f"{what:<34} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   (n={len(times)})", flush=True)
    mean = statistics.mean(times) * 1000
    return {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "mean_ms": round(mean, 2)}


def measure(tool: Tool, exits: int, restarts: int) -> dict[str, dict[str, float]]:
    return {
        "die": report(f"{tool.name}: exit -> die event", sample(tool, exits, (), "die")),
        "restart": report(
            f"{tool.name}: kill -> restart (always)",
            sample(tool, restarts, ("--restart", "always"), "start"),
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exits", type=int, default=200)
    parser.add_argument("--restarts", type=int, default=30)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/daemon.py needs root", file=sys.stderr)
        return 1
    from runtime.images import starter

    work = Path(tempfile.mkdtemp(prefix="wharf-bench-daemon-", dir="/var/tmp"))
    dockerd = None
    results: dict[str, dict] = {}
    wharf = WharfTool(work)
    try:
        tar = work / "busybox.tar"
        with open(tar, "wb") as out:
            starter.build_rootfs_tar(out)
        starter.install(wharf.rt.images, "busybox:latest", tar)
        results["wharf"] = measure(wharf, args.exits, args.restarts)
        why_not = "--no-docker" if args.no_docker else ""
        if not why_not:
            try:
                ensure_docker()
                dockerd = Dockerd(work)
                load_into_docker(wharf, dockerd)
            except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                why_not = f"{DOCKERD} could not run here: {str(exc).strip()[-300:]}"
        if dockerd is not None and not why_not:
            results["docker"] = measure(DockerTool(dockerd), args.exits, args.restarts)
            print()
            for key, what in (("die", "exit -> die event"), ("restart", "restart latency")):
                w, d = results["wharf"][key], results["docker"][key]
                print(
                    f"{what} wharf/docker: p50 {w['p50_ms'] / d['p50_ms']:.2f}, "
                    f"p99 {w['p99_ms'] / d['p99_ms']:.2f}  (target < 1)"
                )
        else:
            print(f"Docker's numbers are missing: {why_not}")
        print(json.dumps(results))
    finally:
        if dockerd is not None:
            dockerd.stop()
        release(wharf.rt)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
