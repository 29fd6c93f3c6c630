"""Benchmark: pull ~160 MB in six layers of incompressible data, Wharf against Docker.

A local Debian docker-registry serves the image; Wharf pulls it into a fresh
root each run, Docker (Debian's docker.io, installed if missing; a private
dockerd started here with its own data root, socket and no network set-up)
pulls it after ``docker rmi`` each run. Prints each run and the ratio of the
medians (Wharf / Docker); lower is better, the target is <= 1.

    sudo .venv/bin/python bench/pull.py [--runs 5] [--layers 6] [--layer-mb 27]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests/integration/images"))

from image_registries import RealRegistry  # noqa: E402

DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"


def make_image(work: Path, layers: int, layer_mb: int) -> Path:
    """Write a docker-save style directory: ``layers`` tars of random bytes."""
    arc = work / "archive"
    arc.mkdir()
    names, diff_ids = [], []
    for i in range(layers):
        path = arc / f"layer{i}.tar"
        with tarfile.open(path, mode="w") as tar:
            for j in range(4):
                data = os.urandom(layer_mb * (1 << 20) // 4)
                info = tarfile.TarInfo(f"data{i}/blob{j}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        names.append(path.name)
        diff_ids.append("sha256:" + hashlib.sha256(path.read_bytes()).hexdigest())
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    (arc / "config.json").write_text(json.dumps(config))
    (arc / "manifest.json").write_text(
        json.dumps([{"Config": "config.json", "RepoTags": ["bench:1"], "Layers": names}])
    )
    return arc


def wharf(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "WHARF_ROOT": str(root),
        "WHARF_RUN": str(root) + "-run",
        "PYTHONPATH": str(REPO),
    }
    subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def ensure_docker() -> None:
    if not Path(DOCKERD).exists():
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "docker.io"],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )


class Dockerd:
    """A private dockerd: own data root, socket and pidfile.

    Without ``bridge`` (CIDR of its default bridge) it has no network set-up at
    all; with it, Docker's defaults: a bridge, iptables rules, docker-proxy.
    """

    def __init__(self, work: Path, bridge: str | None = None) -> None:
        self.tables_before = nft_tables()
        self.had_docker0 = Path("/sys/class/net/docker0").exists()
        self.sock = work / "docker.sock"
        self.host = f"unix://{self.sock}"
        self.log = open(work / "dockerd.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                DOCKERD,
                "--data-root",
                str(work / "docker-data"),
                "--exec-root",
                str(work / "docker-exec"),
                "--pidfile",
                str(work / "docker.pid"),
                "-H",
                self.host,
                *(
                    ["--bip", bridge]
                    if bridge
                    else ["--bridge", "none", "--iptables=false", "--ip6tables=false"]
                ),
                "--storage-driver",
                "overlay2",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.docker("info", check=False).returncode == 0:
                return
            if self.proc.poll() is not None:
                raise RuntimeError((work / "dockerd.log").read_text()[-2000:])
            time.sleep(0.2)
        raise RuntimeError("dockerd did not start")

    def load_from_wharf(self, wharf: str, ref: str, env: dict | None = None) -> None:
        """Load an image of a Wharf root (``wharf save``) into this dockerd: the same bytes."""
        save = subprocess.Popen([wharf, "save", ref], env=env, stdout=subprocess.PIPE)
        subprocess.run(
            [DOCKER, "-H", self.host, "load"],
            stdin=save.stdout,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if save.wait():
            raise RuntimeError(f"wharf save {ref} failed")

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [DOCKER, "-H", self.host, *args],
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        # what Docker leaves behind: its bridge and its iptables tables
        if not self.had_docker0:
            subprocess.run(["ip", "link", "del", "docker0"], capture_output=True)
        for table in nft_tables() - self.tables_before:
            if "wharf_" not in table:
                subprocess.run(["nft", "delete", "table", *table.split()], capture_output=True)


#: the subnet of a networked benchmark dockerd's default bridge
DOCKER_BRIDGE = "10.199.0.1/24"


def nft_tables() -> set[str]:
    """The host's nftables tables, as "family name"."""
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    return {line.removeprefix("table ").strip() for line in out.splitlines() if line.strip()}


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--layer-mb", type=int, default=27)
    parser.add_argument("--no-docker", action="store_true", help="time Wharf only")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/pull.py needs root (dockerd, overlay layers)", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="wharf-bench-", dir="/var/tmp"))
    registry = dockerd = None
    try:
        (work / "registry").mkdir()
        registry = RealRegistry(work / "registry")
        name = f"{registry.host}/bench/big:1"
        seed = work / "seed-root"
        wharf(seed, "load", "-i", str(make_image(work, args.layers, args.layer_mb)))
        wharf(seed, "tag", "bench:1", name)
        wharf(seed, "push", "-q", name)
        size = sum(f.stat().st_size for f in (work / "registry/data").rglob("*") if f.is_file())
        print(f"image: {args.layers} layers, {size / 1e6:.0f} MB in the registry")

        wharf_times = []
        for i in range(args.runs):
            root = work / f"wharf-{i}"
            wharf_times.append(timed(lambda root=root: wharf(root, "pull", "-q", name)))
            shutil.rmtree(root)
            shutil.rmtree(str(root) + "-run", ignore_errors=True)
            print(f"wharf pull  run {i + 1}: {wharf_times[-1]:.2f}s", flush=True)
        docker_times: list[float] = []
        if not args.no_docker:
            ensure_docker()
            dockerd = Dockerd(work)
            for i in range(args.runs):
                docker_times.append(timed(lambda: dockerd.docker("pull", "-q", name)))
                dockerd.docker("rmi", name)
                print(f"docker pull run {i + 1}: {docker_times[-1]:.2f}s", flush=True)
        w = statistics.median(wharf_times)
        print(
            f"\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
            f"kernel {platform.release()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        )
        print(f"wharf  median {w:.2f}s")
        if docker_times:
            d = statistics.median(docker_times)
            print(f"docker median {d:.2f}s")
            print(f"ratio wharf/docker: {w / d:.2f}")
    finally:
        if dockerd:
            dockerd.stop()
        if registry:
            registry.stop()
        subprocess.run(
            ["umount", "-R", str(work / "docker-data")], stderr=subprocess.DEVNULL, check=False
        )
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
