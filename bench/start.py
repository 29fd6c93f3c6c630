"""Container start latency and idle memory: Wharf vs Docker vs bare runc.

Same busybox image everywhere (Debian's busybox-static, made by
``runtime.images.starter`` and loaded into a private dockerd with
``wharf save | docker load``). Prints each tool's median and the ratios:

- ``wharf run --rm busybox true`` (the CLI, Python start-up included; the
  ``wharf`` script, so through the warm fork server once it is up)
- ``docker run --rm busybox true`` (a private dockerd this script starts, with
  its default bridge network, as users run it)
- both again with ``--network none``
- bare ``runc run`` of a prepared bundle (the floor)
- the Python API in one warm process: create, start, wait, remove
- memory per idle container: 100 ``sleep`` containers, Wharf vs Docker,
  measured as the host's used memory (MemTotal - MemAvailable) before/after.

Run as root: ``.venv/bin/python bench/start.py [--runs N] [--idle N] [--no-docker]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pull import DOCKER, DOCKER_BRIDGE, Dockerd, ensure_docker  # noqa: E402

WHARF = str(Path(sys.executable).with_name("wharf"))


def used_memory() -> int:
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":")
        info[key] = int(value.split()[0]) * 1024
    return info["MemTotal"] - info["MemAvailable"]


def settle_memory() -> int:
    subprocess.run(["sync"], check=False)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")
    time.sleep(1)
    return used_memory()


def timed(argv: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(fn, runs: int) -> float:  # noqa: ANN001
    fn()  # warm-up: page cache, Python bytecode
    return statistics.median(fn() for _ in range(runs))


def runc_config_of_wharf(rt, work: Path, rootfs: Path) -> dict:  # noqa: ANN001
    """Return the config.json Wharf generates for ``busybox true`` (same isolation), standalone."""
    from runtime.containers.model import ContainerSpec

    cm = rt.containers
    c = cm.create(ContainerSpec(image="busybox", cmd=["true"]))
    cm.start(c.id)
    cm.wait(c.id)
    config = json.loads((cm.run_dir(c.id) / "config.json").read_text())
    for mount in config["mounts"]:
        if mount["type"] == "bind" and mount["source"].startswith(str(cm.dir(c.id))):
            copy = work / Path(mount["source"]).name
            shutil.copy(mount["source"], copy)
            mount["source"] = str(copy)
    cm.remove(c.id)
    for ns in config["linux"]["namespaces"]:
        if ns["type"] == "network":
            ns.pop("path", None)  # Wharf's was removed with the container: a fresh one
    config["root"] = {"path": str(rootfs), "readonly": True}
    config["linux"]["cgroupsPath"] = ""
    return config


def release(rt) -> None:  # noqa: ANN001
    """Remove the benchmark host's containers, bridges, rules and background processes."""
    from runtime.agent import client

    for c in rt.containers.list(all=True):
        rt.containers.remove(c.id, force=True)
    rt.networks.reset()
    rt.close()
    client.stop(rt.paths)


def minimal_runc_config(rootfs: Path) -> dict:
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "args": ["true"],
            "env": ["PATH=/bin"],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
        },
        "root": {"path": str(rootfs), "readonly": True},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts", "network")]},
    }


def bare_runc(work: Path, name: str, config: dict, runs: int) -> float:
    bundle = work / f"runc-{name}"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(config))
    state = work / "runc-state"
    counter = iter(range(10**6))
    return median_of(
        lambda: timed(
            [
                "runc",
                "--root",
                str(state),
                "run",
                "--bundle",
                str(bundle),
                f"bench-{name}-{next(counter)}",
            ]
        ),
        runs,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--idle", type=int, default=100)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/start.py needs root", file=sys.stderr)
        return 1
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # a real install keeps its bytecode
    from runtime import Runtime
    from runtime.containers.model import ContainerSpec
    from runtime.images import starter

    work = Path(tempfile.mkdtemp(prefix="wharf-bench-start-", dir="/var/tmp"))
    env = dict(os.environ, WHARF_ROOT=str(work / "root"), WHARF_RUN=str(work / "run"))
    dockerd = None
    results: dict[str, float] = {}
    try:
        rt = Runtime(work / "root", work / "run")
        tar = work / "busybox.tar"
        with open(tar, "wb") as out:
            starter.build_rootfs_tar(out)
        image = starter.install(rt.images, "busybox:latest", tar)
        rootfs = rt.images.layer_paths(image)[-1]

        results["runc"] = bare_runc(work, "minimal", minimal_runc_config(rootfs), args.runs)
        print(f"bare runc run (minimal):   {results['runc'] * 1000:6.1f} ms", flush=True)
        same = runc_config_of_wharf(rt, work, rootfs)
        results["runc_same"] = bare_runc(work, "same", same, args.runs)
        print(
            f"bare runc run (Wharf's config.json: seccomp, caps, masks): "
            f"{results['runc_same'] * 1000:6.1f} ms",
            flush=True,
        )

        results["cli"] = median_of(
            lambda: timed([WHARF, "run", "--rm", "busybox", "true"], env), args.runs
        )
        print(f"wharf run --rm (CLI):      {results['cli'] * 1000:6.1f} ms", flush=True)
        results["cli_none"] = median_of(
            lambda: timed([WHARF, "run", "--rm", "--network", "none", "busybox", "true"], env),
            args.runs,
        )
        print(f"  the same, --network none: {results['cli_none'] * 1000:6.1f} ms", flush=True)

        cm = rt.containers

        def api_cycle() -> float:
            start = time.perf_counter()
            c = cm.create(ContainerSpec(image="busybox", cmd=["true"]))
            cm.start(c.id)
            cm.wait(c.id)
            cm.remove(c.id)
            return time.perf_counter() - start

        results["api"] = median_of(api_cycle, args.runs)
        print(f"API create/start/wait/rm:  {results['api'] * 1000:6.1f} ms", flush=True)

        before = settle_memory()
        ids = [
            subprocess.run(
                [WHARF, "run", "-d", "busybox", "sleep", "3600"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            for _ in range(args.idle)
        ]
        after = settle_memory()
        results["wharf_mem"] = (after - before) / args.idle
        print(
            f"wharf memory per idle container:  {results['wharf_mem'] / 2**20:.2f} MiB", flush=True
        )
        subprocess.run([WHARF, "rm", "-f", *ids], env=env, check=True, stdout=subprocess.DEVNULL)

        if not args.no_docker:
            ensure_docker()
            dockerd = Dockerd(work, bridge=DOCKER_BRIDGE)  # Docker's defaults, as users run it
            rt.networks.repair()  # Wharf's bridges get their accept rules in Docker's FORWARD
            dockerd.load_from_wharf(WHARF, "busybox:latest", env)
            results["docker"] = median_of(
                lambda: timed([DOCKER, "-H", dockerd.host, "run", "--rm", "busybox", "true"]),
                args.runs,
            )
            print(f"docker run --rm:           {results['docker'] * 1000:6.1f} ms", flush=True)
            results["docker_none"] = median_of(
                lambda: timed(
                    [
                        DOCKER,
                        "-H",
                        dockerd.host,
                        "run",
                        "--rm",
                        "--network",
                        "none",
                        "busybox",
                        "true",
                    ]
                ),
                args.runs,
            )
            print(
                f"  the same, --network none: {results['docker_none'] * 1000:6.1f} ms", flush=True
            )
            before = settle_memory()
            for _ in range(args.idle):
                dockerd.docker("run", "-d", "busybox", "sleep", "3600")
            after = settle_memory()
            results["docker_mem"] = (after - before) / args.idle
            print(
                f"docker memory per idle container: {results['docker_mem'] / 2**20:.2f} MiB",
                flush=True,
            )
            ids = subprocess.run(
                [DOCKER, "-H", dockerd.host, "ps", "-aq"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            if ids:
                dockerd.docker("rm", "-f", *ids)

        print()
        if "docker" in results:
            print(
                f"wharf CLI / docker:        {results['cli'] / results['docker']:.2f}  (target <= 0.5)"
            )
            print(f"  with --network none:     {results['cli_none'] / results['docker_none']:.2f}")
            print(
                f"wharf memory / docker:     {results['wharf_mem'] / results['docker_mem']:.2f}  (target < 1)"
            )
        print(f"warm API / bare runc:      {results['api'] / results['runc']:.2f}  (target <= 3)")
        print(f"warm API / runc same cfg:  {results['api'] / results['runc_same']:.2f}")
        print(json.dumps({k: round(v, 4) for k, v in results.items()}))
    finally:
        if dockerd is not None:
            dockerd.stop()
        release(Runtime(work / "root", work / "run"))
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
