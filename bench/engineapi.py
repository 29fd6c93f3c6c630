"""The Docker Engine API served by Wharf against dockerd's, through the same clients.

One docker CLI binary (Debian's docker.io) and Debian's docker-compose talk
to two sockets in the same run: the Engine API socket of a Wharf host agent
(``wharf system api-socket``) and a private dockerd (own data root, socket
and pidfile), both holding the same busybox bytes (``wharf save |
docker load``). Each command is timed as a user sees it, the client process
from start to exit, ``--runs`` (20) times; p50 and p95 per command, and the
ratio wharf/docker of the p50s (below 1: Wharf is faster).

Commands: ``run --rm`` (create, attach, wait, start, remove), ``run -d``
(both ``--network none``), ``ps -a`` over the runs' containers, ``inspect``,
``exec``, ``logs``, ``stop -t 0``, ``rm``, ``images``, and ``docker-compose up
-d`` / ``down -v`` of the compose test's two-service file (project network,
name resolution, named volume, a port published on 127.0.0.1). dockerd runs
with Docker's defaults (its bridge, iptables, docker-proxy) and is cleaned
away after.

    sudo .venv/bin/python bench/engineapi.py [--runs 20] [--no-docker]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))

from pull import DOCKER, DOCKER_BRIDGE, DOCKERD, Dockerd, ensure_docker  # noqa: E402
from start import release  # noqa: E402

COMPOSE = "/usr/bin/docker-compose"
#: the two-service file of the engine API's compose test: the client reaches web by its
#: service name on the project network, web serves a named volume on a published port;
#: SIGKILL as stop signal, so ``down`` times the API, not a shell ignoring SIGTERM
COMPOSE_FILE = """\
version: "3"
services:
  web:
    image: busybox
    command: sh -c "echo hello > /www/index.html; httpd -f -p 80 -h /www"
    ports: ["127.0.0.1:{port}:80"]
    volumes: [data:/www]
    stop_signal: SIGKILL
  client:
    image: busybox
    command: sh -c "until wget -qO- http://web/; do sleep 0.2; done; sleep 3600"
    stop_signal: SIGKILL
volumes:
  data:
"""


class Client:
    """The docker CLI and docker-compose pointed at one socket."""

    def __init__(self, name: str, host: str, work: Path) -> None:
        self.name = name
        self.env = {
            **os.environ,
            "DOCKER_HOST": host,
            "DOCKER_CONFIG": str(work / f"{name}-config"),
            "COMPOSE_PROJECT_NAME": "bench",
        }
        self.project = work / f"{name}-project"
        self.project.mkdir()
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        (self.project / "docker-compose.yml").write_text(COMPOSE_FILE.format(port=port))

    def run(self, *argv: str) -> str:
        proc = subprocess.run(
            argv, env=self.env, cwd=self.project, capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{self.name}: {' '.join(argv)}: {proc.stderr.strip()[-400:]}")
        return proc.stdout

    def docker(self, *args: str) -> str:
        return self.run(DOCKER, *args)

    def timed(self, *argv: str) -> float:
        started = time.perf_counter()
        self.run(*argv)
        return (time.perf_counter() - started) * 1000


def measure(client: Client, runs: int) -> dict[str, list[float]]:
    """Each command ``runs`` times; the milliseconds of each run."""
    d = DOCKER
    samples: dict[str, list[float]] = {}

    def each(label: str, argv_of: Callable[[int], list[str]]) -> None:
        samples[label] = [client.timed(*argv_of(i)) for i in range(runs)]

    each("run --rm", lambda i: [d, "run", "--rm", "--network", "none", "busybox", "true"])
    ids: list[str] = []
    started = []
    for i in range(runs):
        t0 = time.perf_counter()
        out = client.docker(
            "run", "-d", "--network", "none", "--name", f"b{i}", "busybox", "sleep", "3600"
        )
        started.append((time.perf_counter() - t0) * 1000)
        ids.append(out.strip())
    samples["run -d"] = started
    each("ps -a", lambda i: [d, "ps", "-a"])
    each("inspect", lambda i: [d, "inspect", ids[i]])
    each("exec", lambda i: [d, "exec", ids[i], "true"])
    each("logs", lambda i: [d, "logs", ids[i]])
    each("stop -t 0", lambda i: [d, "stop", "-t", "0", ids[i]])
    each("rm", lambda i: [d, "rm", ids[i]])
    each("images", lambda i: [d, "images"])
    ups, downs = [], []
    for _ in range(max(runs // 4, 3)):
        ups.append(client.timed(COMPOSE, "up", "-d"))
        downs.append(client.timed(COMPOSE, "down", "-v"))
    samples["compose up -d"] = ups
    samples["compose down -v"] = downs
    return samples


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/engineapi.py needs root", file=sys.stderr)
        return 1
    from runtime import Runtime
    from runtime.images import starter

    work = Path(tempfile.mkdtemp(prefix="wharf-bench-engineapi-", dir="/var/tmp"))
    env = {
        **os.environ,
        "WHARF_ROOT": str(work / "root"),
        "WHARF_RUN": str(work / "run"),
        "PYTHONPATH": str(REPO),
    }
    rt = Runtime(work / "root", work / "run")
    dockerd = None
    results: dict[str, dict] = {}
    try:
        tar = work / "busybox.tar"
        with open(tar, "wb") as out:
            starter.build_rootfs_tar(out)
        starter.install(rt.images, "busybox:latest", tar)
        sock = subprocess.run(
            [sys.executable, "-m", "runtime.cli.main", "system", "api-socket"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        wharf = Client("wharf", f"unix://{sock}", work)
        wharf.docker("version")  # the agent is up before the first sample
        results["wharf"] = {k: summary(v) for k, v in measure(wharf, args.runs).items()}
        why_not = "--no-docker" if args.no_docker else ""
        if not why_not:
            try:
                ensure_docker()
                dockerd = Dockerd(work, bridge=DOCKER_BRIDGE)  # Docker's defaults, as users run it
                dockerd.load_from_wharf(
                    str(Path(sys.executable).with_name("wharf")), "busybox:latest", env
                )
            except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                why_not = f"{DOCKERD} could not run here: {str(exc).strip()[-300:]}"
        if dockerd is not None and not why_not:
            docker = Client("docker", dockerd.host, work)
            results["docker"] = {k: summary(v) for k, v in measure(docker, args.runs).items()}
        print(f"{'command':<18} {'wharf p50/p95 ms':>18} {'docker p50/p95 ms':>18} {'ratio':>6}")
        for label, w in results["wharf"].items():
            d = results.get("docker", {}).get(label)
            line = f"{label:<18} {w['p50_ms']:>8} / {w['p95_ms']:<7}"
            if d:
                line += f" {d['p50_ms']:>8} / {d['p95_ms']:<7} {w['p50_ms'] / d['p50_ms']:>6.2f}"
            print(line)
        if why_not:
            print(f"Docker's numbers are missing: {why_not}")
        print(json.dumps(results))
    finally:
        if dockerd is not None:
            dockerd.stop()
        release(rt)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
