"""Build benchmark: a ten-step Dockerfile on busybox, cold and rebuilt unchanged,
Wharf (``wharf build``) against Docker's builder in the same run.

Docker is Debian's docker.io, a private dockerd started here (see bench/pull.py);
both build with ``--network none``. Cold builds use ``--no-cache``; the
unchanged rebuild follows one warm-up build. Prints medians and the ratios
Wharf/Docker. Run as root: ``.venv/bin/python bench/build.py``.
"""

from __future__ import annotations

import argparse
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

from pull import DOCKER, Dockerd, ensure_docker  # noqa: E402

WHARF = str(Path(sys.executable).with_name("wharf"))
DOCKERFILE = """\
FROM busybox
ENV APP=/app MODE=bench
WORKDIR /app
COPY data/ ./data/
RUN mkdir -p /app/out && cp -r /app/data /app/out/copy
RUN for i in 1 2 3 4 5 6 7 8; do echo line $i >> /app/out/log; done
COPY run.sh /app/run.sh
LABEL org.example.bench=build
EXPOSE 8080
CMD ["sh", "/app/run.sh"]
"""


def make_context(work: Path) -> Path:
    ctx = work / "ctx"
    (ctx / "data").mkdir(parents=True)
    for i in range(50):
        (ctx / "data" / f"file{i}.txt").write_text(f"payload {i}\n" * 200)
    (ctx / "run.sh").write_text("cat /app/out/log\n")
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    return ctx


def timed(argv: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median(fn, runs: int) -> float:  # noqa: ANN001
    return statistics.median(fn() for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/build.py needs root", file=sys.stderr)
        return 1
    from runtime import Runtime
    from runtime.images import starter

    work = Path(tempfile.mkdtemp(prefix="wharf-bench-build-", dir="/var/tmp"))
    env = dict(os.environ, WHARF_ROOT=str(work / "root"), WHARF_RUN=str(work / "run"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed wharf keeps its bytecode
    dockerd = None
    try:
        ctx = make_context(work)
        with Runtime(work / "root", work / "run") as rt:
            tar = work / "busybox.tar"
            with open(tar, "wb") as out:
                starter.build_rootfs_tar(out)
            starter.install(rt.images, "busybox:latest", tar)
        wharf = [WHARF, "build", "-q", "--network", "none", "-t", "bench:latest"]
        w_cold = median(lambda: timed([*wharf, "--no-cache", str(ctx)], env), args.runs)
        timed([*wharf, str(ctx)], env)
        w_warm = median(lambda: timed([*wharf, str(ctx)], env), args.runs)
        print(f"wharf build: cold {w_cold:.3f} s, unchanged rebuild {w_warm:.3f} s", flush=True)

        ensure_docker()
        dockerd = Dockerd(work)
        dockerd.load_from_wharf(WHARF, "busybox:latest", env)
        docker = [
            DOCKER,
            "-H",
            dockerd.host,
            "build",
            "-q",
            "--network",
            "none",
            "-t",
            "bench:latest",
        ]
        denv = dict(os.environ, DOCKER_BUILDKIT="0")
        d_cold = median(lambda: timed([*docker, "--no-cache", str(ctx)], denv), args.runs)
        timed([*docker, str(ctx)], denv)
        d_warm = median(lambda: timed([*docker, str(ctx)], denv), args.runs)
        print(f"docker build: cold {d_cold:.3f} s, unchanged rebuild {d_warm:.3f} s", flush=True)
        print(
            f"ratio wharf/docker: cold {w_cold / d_cold:.2f}, unchanged rebuild {w_warm / d_warm:.2f}"
        )
    finally:
        if dockerd is not None:
            dockerd.stop()
        subprocess.run(["umount", "-R", "-l", str(work / "docker-data")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
