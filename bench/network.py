"""Networking: start latency on the default bridge and with a published port, and
container-to-container throughput over a bridge — Wharf vs Docker, same run.

Docker is a private dockerd this script starts with its default network set-up
(a bridge on 10.199.0.0/24, iptables rules, docker-proxy for published ports).
Wharf uses its own default bridge and a user network. Prints medians and ratios:

- ``run --rm busybox true`` on the default bridge (CLI, Python start-up included)
- ``run --rm -p 127.0.0.1::80 busybox true`` (a published port on top)
- throughput: a busybox ``nc`` streaming zeros to another container's ``nc`` on
  a user-defined network (Docker: ``docker network create``), MiB/s, timed
  inside the sending container (busybox ``time``); receiver pinned to CPU 0,
  sender to CPU 1 on both sides
- throughput with large writes: ``bench/tcpstream.c`` (built static here and
  copied into busybox containers of either tool), 1 MiB writes, timed by the
  sender; busybox ``nc``'s small writes make its rate depend on scheduling

Run as root: ``.venv/bin/python bench/network.py [--runs N] [--mib N]``.
Traffic stays on this machine: between containers on bridges the script made.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
from start import WHARF, median_of, release, timed  # noqa: E402

# Where the two ends run decides the rate more than anything else (same CPU or
# not: 2x here), so both tools get the same placement: receiver on CPU 0, sender on 1.
PIN_SERVER = ["--cpuset-cpus", "0"] if (os.cpu_count() or 1) > 1 else []
PIN_CLIENT = ["--cpuset-cpus", "1"] if (os.cpu_count() or 1) > 1 else []


def transfer(cli: list[str], network: str, mib: int) -> float:
    """MiB/s of one stream of ``mib`` MiB from one container's nc to another's."""
    server = subprocess.run(
        [
            *cli,
            "run",
            "-d",
            "--network",
            network,
            *PIN_SERVER,
            "busybox",
            "sh",
            "-c",
            # nc stops at EOF on its stdin: a fifo held open keeps it reading
            "mkfifo /f; nc -l -p 5001 < /f | wc -c & exec 3>/f; wait $!",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    info = json.loads(
        subprocess.run([*cli, "inspect", server], check=True, capture_output=True).stdout
    )[0]
    ip = info["NetworkSettings"]["Networks"][network]["IPAddress"]
    time.sleep(0.3)  # the listener is up
    # timed inside the client container, so the tools' start-up is not counted
    out = subprocess.run(
        [
            *cli,
            "run",
            "--rm",
            "--network",
            network,
            *PIN_CLIENT,
            "busybox",
            "sh",
            "-c",
            f"time sh -c 'dd if=/dev/zero bs=1M count={mib} 2>/dev/null | nc {ip} 5001'",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    m = re.search(r"real\s+(\d+)m\s*([\d.]+)s", out.stderr)
    if not m:
        raise RuntimeError(f"no timing from the client container: {out.stderr!r}")
    elapsed = int(m.group(1)) * 60 + float(m.group(2))
    subprocess.run([*cli, "wait", server], check=True, stdout=subprocess.DEVNULL)
    got = subprocess.run([*cli, "logs", server], check=True, capture_output=True, text=True)
    subprocess.run([*cli, "rm", "-f", server], check=True, stdout=subprocess.DEVNULL)
    if got.stdout.split() != [str(mib << 20)]:
        raise RuntimeError(f"the receiver got {got.stdout.strip()} bytes, not {mib << 20}")
    return mib / elapsed


def build_stream(work: Path) -> Path:
    """Compile bench/tcpstream.c static, for any image."""
    binary = work / "tcpstream"
    source = Path(__file__).with_name("tcpstream.c")
    subprocess.run(["gcc", "-static", "-O2", "-o", str(binary), str(source)], check=True)
    return binary


def stream(cli: list[str], network: str, mib: int, binary: Path) -> float:
    """MiB/s of one ``tcpstream`` run (1 MiB writes), as the sending container measures it."""

    def container(pin: list[str], *args: str) -> str:
        cid = subprocess.run(
            [*cli, "create", "--network", network, *pin, "busybox", "/tcpstream", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        subprocess.run([*cli, "cp", str(binary), f"{cid}:/tcpstream"], check=True)
        return cid

    server = container(PIN_SERVER, "recv", "5001")
    subprocess.run([*cli, "start", server], check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while (
        "ready" not in subprocess.run([*cli, "logs", server], capture_output=True, text=True).stdout
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the receiver never got ready")
        time.sleep(0.05)
    info = json.loads(
        subprocess.run([*cli, "inspect", server], check=True, capture_output=True).stdout
    )[0]
    ip = info["NetworkSettings"]["Networks"][network]["IPAddress"]
    sender = container(PIN_CLIENT, "send", ip, "5001", str(mib))
    out = subprocess.run(
        [*cli, "start", "-a", sender], check=True, capture_output=True, text=True
    ).stdout
    subprocess.run([*cli, "wait", server], check=True, stdout=subprocess.DEVNULL)
    got = subprocess.run([*cli, "logs", server], check=True, capture_output=True, text=True)
    subprocess.run([*cli, "rm", "-f", server, sender], check=True, stdout=subprocess.DEVNULL)
    if got.stdout.split()[-1:] != [str(mib << 20)]:
        raise RuntimeError(f"the receiver got {got.stdout.strip()!r}, not {mib << 20} bytes")
    return float(out.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--mib", type=int, default=512)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/network.py needs root", file=sys.stderr)
        return 1
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    from runtime import Runtime
    from runtime.images import starter

    work = Path(tempfile.mkdtemp(prefix="wharf-bench-net-", dir="/var/tmp"))
    env = dict(os.environ, WHARF_ROOT=str(work / "root"), WHARF_RUN=str(work / "run"))
    wharf = [WHARF]
    results: dict[str, float] = {}
    dockerd = None
    rt = Runtime(work / "root", work / "run")
    try:
        tar = work / "busybox.tar"
        with open(tar, "wb") as out:
            starter.build_rootfs_tar(out)
        starter.install(rt.images, "busybox:latest", tar)
        os.environ.update(WHARF_ROOT=env["WHARF_ROOT"], WHARF_RUN=env["WHARF_RUN"])

        ensure_docker()
        dockerd = Dockerd(work, bridge=DOCKER_BRIDGE)
        rt.networks.repair()  # accept Wharf's bridges in the FORWARD chain Docker just made
        dockerd.load_from_wharf(WHARF, "busybox:latest")
        docker = [DOCKER, "-H", dockerd.host]

        for label, extra in (("bridge", []), ("publish", ["-p", "127.0.0.1::80"])):
            for tool, cli in (("wharf", wharf), ("docker", docker)):
                key = f"{tool}_{label}"
                results[key] = median_of(
                    lambda cli=cli, extra=extra: timed(
                        [*cli, "run", "--rm", *extra, "busybox", "true"]
                    ),
                    args.runs,
                )
                print(f"{key:<16} {results[key] * 1000:7.1f} ms", flush=True)

        subprocess.run(
            [*wharf, "network", "create", "benchnet"], check=True, stdout=subprocess.DEVNULL
        )
        subprocess.run(
            [*docker, "network", "create", "--subnet", "10.198.0.0/24", "benchnet"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # alternating runs: the machine's drift hits both tools alike
        binary = build_stream(work)
        measures = {
            "mibps": lambda cli: transfer(cli, "benchnet", args.mib),  # busybox nc
            "stream_mibps": lambda cli: stream(cli, "benchnet", 4 * args.mib, binary),
        }
        for name, measure in measures.items():
            rates: dict[str, list[float]] = {"wharf": [], "docker": []}
            for i in range(1 + max(3, args.runs // 2)):
                for tool, cli in (("wharf", wharf), ("docker", docker)):
                    rate = measure(cli)
                    if i:  # the first round warms up
                        rates[tool].append(rate)
            for tool, values in rates.items():
                key = f"{tool}_{name}"
                results[key] = statistics.median(values)
                print(
                    f"{key:<20} {results[key]:7.0f} MiB/s "
                    f"(runs: {', '.join(f'{v:.0f}' for v in values)})",
                    flush=True,
                )

        print()
        for label in ("bridge", "publish"):
            ratio = results[f"wharf_{label}"] / results[f"docker_{label}"]
            print(f"wharf / docker, run --rm on {label:<8} {ratio:.2f}  (lower is better)")
        for name in measures:
            ratio = results[f"wharf_{name}"] / results[f"docker_{name}"]
            print(f"wharf / docker, throughput ({name}) {ratio:.2f}  (higher is better)")
        print(json.dumps({k: round(v, 4) for k, v in results.items()}))
    finally:
        if dockerd is not None:
            subprocess.run(
                [
                    DOCKER,
                    "-H",
                    dockerd.host,
                    "rm",
                    "-f",
                    *subprocess.run(
                        [DOCKER, "-H", dockerd.host, "ps", "-aq"], capture_output=True, text=True
                    ).stdout.split(),
                ],
                capture_output=True,
            )
            subprocess.run(
                [DOCKER, "-H", dockerd.host, "network", "rm", "benchnet"], capture_output=True
            )
            dockerd.stop()
        release(rt)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
