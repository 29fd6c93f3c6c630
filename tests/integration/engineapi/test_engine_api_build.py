"""``POST /build`` (the classic builder protocol) driven by Debian's ``docker`` CLI with
DOCKER_BUILDKIT=0 and by docker-py; a hostile context tar cannot write outside."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def docker_build(docker_host: str) -> Callable[..., subprocess.CompletedProcess]:
    """``docker build`` with the legacy builder (what speaks ``POST /build``)."""
    binary = shutil.which("docker")
    if binary is None:
        pytest.fail("the docker CLI is missing: apt-get install docker.io", pytrace=False)
    env = {
        **os.environ,
        "DOCKER_HOST": docker_host,
        "DOCKER_CONFIG": "/nonexistent-wharf",
        "DOCKER_BUILDKIT": "0",
    }

    def run(
        *args: str,
        cwd: Path,
        check: bool = True,
        input: str | None = None,
        config: Path | None = None,
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [binary, "build", *args],
            cwd=cwd,
            env={**env, "DOCKER_CONFIG": str(config)} if config else env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"docker build {' '.join(args)}: {proc.stdout}{proc.stderr}")
        return proc

    return run


def _leftovers(rt) -> list[str]:
    """What a build left in the builder's work directory (uploads, unpacked contexts)."""
    work = rt.paths.root / "tmp" / "build"
    return sorted(p.name for p in work.iterdir()) if work.exists() else []


DOCKERFILE = """\
FROM busybox
ARG WHO=nobody
COPY . /app/
RUN echo "hello from $WHO" > /greeting && test ! -e /app/secret.txt
CMD ["sh", "-c", "cat /greeting /app/data.txt"]
"""


def test_docker_build_then_run(docker_build, docker, wharf, rt, tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "data.txt").write_text("data file\n")
    (tmp_path / "secret.txt").write_text("not for the image\n")
    (tmp_path / ".dockerignore").write_text("secret.txt\n")
    proc = docker_build(
        "-t",
        "built:1",
        "-t",
        "built:extra",
        "--build-arg",
        "WHO=api",
        "--label",
        "team=a",
        ".",
        cwd=tmp_path,
    )
    out = proc.stdout
    assert "Step 1/5 : FROM busybox" in out
    assert "Step 4/5 : RUN" in out
    assert "Successfully built " in out
    assert "Successfully tagged built:1" in out and "Successfully tagged built:extra" in out
    assert docker("run", "--rm", "built:1").stdout == "hello from api\ndata file\n"
    labels = json.loads(
        docker("image", "inspect", "-f", "{{json .Config.Labels}}", "built:1").stdout
    )
    assert labels == {"team": "a"}
    # a second build uses the cache; -q prints the same id only
    image_id = wharf("image", "inspect", "-f", "{{.Id}}", "built:1").stdout.strip()
    again = docker_build(
        "-q", "-t", "built:1", "--build-arg", "WHO=api", "--label", "team=a", ".", cwd=tmp_path
    )
    assert again.stdout.strip() == image_id
    assert _leftovers(rt) == []


def test_docker_build_stdin_outside_dockerfile_and_pull(
    docker_build, docker, wharf, rt, tmp_path
) -> None:
    proc = docker_build("-t", "stdin:1", "-", cwd=tmp_path, input="FROM busybox\nCMD echo piped\n")
    assert "Successfully tagged stdin:1" in proc.stdout
    assert docker("run", "--rm", "stdin:1").stdout == "piped\n"
    ctx, elsewhere = tmp_path / "ctx", tmp_path / "elsewhere"
    ctx.mkdir()
    elsewhere.mkdir()
    (ctx / "msg").write_text("from the context\n")
    (elsewhere / "Dockerfile").write_text("FROM busybox\nCOPY msg /\nCMD cat /msg\n")
    docker_build("-f", str(elsewhere / "Dockerfile"), "-t", "outside:1", str(ctx), cwd=tmp_path)
    assert docker("run", "--rm", "outside:1").stdout == "from the context\n"
    # --pull fetches the FROM image from its registry, with the client's credentials for it
    # (X-Registry-Config); without them the registry refuses
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "images"))
    from image_registries import RealRegistry

    workdir = Path(tempfile.mkdtemp(prefix="wharf-engineapi-build-"))
    reg = RealRegistry(workdir, "htpasswd", users={"alice": "s3cret"})
    try:
        base = f"{reg.host}/team/base:1"
        wharf("tag", "busybox", base)
        rt.images.push(base, credentials=("alice", "s3cret"))
        wharf("rmi", base)
        (ctx / "Dockerfile").write_text(f"FROM {base}\nCMD echo pulled\n")
        proc = docker_build("--pull", "-t", "pulled:1", str(ctx), cwd=tmp_path, check=False)
        assert proc.returncode != 0 and "authentication required" in proc.stderr
        assert base not in wharf("images").stdout
        config = tmp_path / "docker-config"
        config.mkdir()
        auth = base64.b64encode(b"alice:s3cret").decode()
        (config / "config.json").write_text(json.dumps({"auths": {reg.host: {"auth": auth}}}))
        proc = docker_build("--pull", "-t", "pulled:1", str(ctx), cwd=tmp_path, config=config)
        assert "Successfully tagged pulled:1" in proc.stdout
        assert base in wharf("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
        # without --pull, a FROM image missing here is pulled as Docker's builder does
        wharf("rmi", "pulled:1", base)
        proc = docker_build("-t", "pulled:2", str(ctx), cwd=tmp_path, config=config)
        assert f"Pulling {base}" in proc.stdout and "Successfully tagged pulled:2" in proc.stdout
        assert docker("run", "--rm", "pulled:2").stdout == "pulled\n"
        (ctx / "Dockerfile").write_text(f"FROM {reg.host}/team/nosuch:1\n")
        proc = docker_build("-t", "never:1", str(ctx), cwd=tmp_path, config=config, check=False)
        assert proc.returncode != 0 and f"FROM {reg.host}/team/nosuch:1" in proc.stderr, proc
    finally:
        reg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    assert _leftovers(rt) == []


def test_docker_build_failing_step(docker_build, wharf, rt, tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo about to fail; exit 3\n")
    proc = docker_build("-t", "broken:1", ".", cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "returned a non-zero code: 3" in proc.stderr, proc
    assert "about to fail" in proc.stdout
    assert "broken" not in wharf("images", "--format", "{{.Repository}}").stdout
    assert wharf("ps", "-aq").stdout == ""  # the step's container is gone
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Dockerfile").write_text("FROM busybox\nFROBNICATE now\n")
    proc = docker_build(".", cwd=bad, check=False)
    assert proc.returncode != 0 and "FROBNICATE" in proc.stderr.upper(), proc
    assert _leftovers(rt) == []


def test_docker_py_build_fileobj_and_path(client, wharf, rt, tmp_path) -> None:
    dockerfile = io.BytesIO(b"FROM busybox AS base\nRUN echo one > /one\nFROM base\nCMD cat /one\n")
    image, logs = client.images.build(fileobj=dockerfile, tag="py:1", rm=True, forcerm=True)
    assert "py:1" in image.tags
    assert any("Successfully built" in chunk.get("stream", "") for chunk in logs)
    assert client.containers.run("py:1", remove=True) == b"one\n"
    # a directory, gzipped by docker-py, with a Dockerfile of another name and a target
    (tmp_path / "Other.dockerfile").write_text(
        "FROM busybox AS first\nARG N\nRUN echo first $N > /f\n"
        "FROM busybox AS second\nRUN echo second > /f\n"
    )
    image, _ = client.images.build(
        path=str(tmp_path),
        dockerfile="Other.dockerfile",
        target="first",
        buildargs={"N": "7"},
        labels={"made.by": "docker-py"},
        gzip=True,
        nocache=True,
        tag="py:2",
        platform="linux/amd64",
    )
    assert client.containers.run("py:2", ["cat", "/f"], remove=True) == b"first 7\n"
    assert image.labels == {"made.by": "docker-py"}
    import docker as docker_py

    with pytest.raises(docker_py.errors.BuildError) as info:
        client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN exit 4\n"))
    assert "returned a non-zero code: 4" in str(info.value)
    assert _leftovers(rt) == []


def _post_build(client, body: bytes, **params: str):
    import docker as docker_py

    with pytest.raises(docker_py.errors.APIError) as info:
        response = client.api._post(  # the raw call: docker-py would re-pack the body
            client.api._url("/build"),
            data=body,
            params=params,
            headers={"Content-Type": "application/x-tar"},
        )
        client.api._raise_for_status(response)
    return info.value


def _tar(entries: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        df = b"FROM busybox\nCOPY . /ctx/\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(df)
        tar.addfile(info, io.BytesIO(df))
        for entry in entries:
            payload = (data or {}).get(entry.name, b"")
            entry.size = len(payload) if entry.isreg() else 0
            tar.addfile(entry, io.BytesIO(payload) if entry.isreg() else None)
    return buf.getvalue()


def test_bad_input_is_refused_with_nothing_left(client, wharf, rt, tmp_path) -> None:
    before = wharf("images", "-aq", "--no-trunc").stdout
    good = _tar([])
    err = _post_build(client, good, buildargs="{not json")
    assert err.status_code == 400 and "buildargs" in err.explanation
    err = _post_build(client, good, t="Bad Name!")
    assert err.status_code == 400
    err = _post_build(client, b"just some bytes, not a tar" * 50)
    assert err.status_code == 400 and "not a tar" in err.explanation
    err = _post_build(client, b"\x1f\x8b\x08\x00" + b"garbage" * 20)
    assert err.status_code == 400 and "decompress" in err.explanation
    err = _post_build(client, b"")
    assert err.status_code == 400 and "empty" in err.explanation
    err = _post_build(client, good, dockerfile="../../etc/passwd")
    assert err.status_code == 400 and "outside the build context" in err.explanation
    err = _post_build(client, good, remote="https://example.invalid/ctx.tar")
    assert err.status_code == 400
    assert wharf("images", "-aq", "--no-trunc").stdout == before
    assert _leftovers(rt) == []


def test_a_context_larger_than_the_limit_is_refused(wharf_paths, client, rt, tmp_path) -> None:
    config = (
        json.loads(wharf_paths.config_file.read_text()) if wharf_paths.config_file.exists() else {}
    )
    wharf_paths.config_file.write_text(json.dumps({**config, "max_build_context": 64 * 1024}))
    big = tarfile.TarInfo("big.bin")
    err = _post_build(client, _tar([big], {"big.bin": os.urandom(200 * 1024)}))
    assert err.status_code == 400 and "larger than this host accepts" in err.explanation
    # a small gzip that unpacks to much more is measured unpacked
    import gzip

    bomb = gzip.compress(_tar([big], {"big.bin": bytes(4 << 20)}))
    assert len(bomb) < 64 * 1024
    err = _post_build(client, bomb)
    assert err.status_code == 400 and "larger than this host accepts" in err.explanation
    assert _leftovers(rt) == []


def test_a_hostile_context_cannot_write_outside(client, wharf, rt, tmp_path) -> None:
    canary_dir = tmp_path / "host"
    canary_dir.mkdir()
    canary = canary_dir / "canary.txt"
    canary.write_text("original\n")
    up = "../" * 16
    attacks = {}
    dotdot = tarfile.TarInfo(up + str(canary).lstrip("/"))
    attacks["dotdot"] = _tar([dotdot], {dotdot.name: b"overwritten\n"})
    link = tarfile.TarInfo("out")
    link.type, link.linkname = tarfile.SYMTYPE, str(canary_dir)
    through = tarfile.TarInfo("out/canary.txt")
    attacks["absolute link"] = _tar([link, through], {"out/canary.txt": b"overwritten\n"})
    rel = tarfile.TarInfo("up")
    rel.type, rel.linkname = tarfile.SYMTYPE, up + str(canary_dir).lstrip("/")
    rel_through = tarfile.TarInfo("up/canary.txt")
    attacks["relative link"] = _tar([rel, rel_through], {"up/canary.txt": b"overwritten\n"})
    hard = tarfile.TarInfo("hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, str(canary)
    attacks["hard link"] = _tar([hard])
    for what, body in attacks.items():
        err = _post_build(client, body, t="evil:1")
        assert err.status_code == 400, what
        assert "points outside the context: refused" in err.explanation, (what, err.explanation)
        assert str(rt.paths.root) not in err.explanation  # no host path in the answer
    assert canary.read_text() == "original\n"
    assert sorted(p.name for p in canary_dir.iterdir()) == ["canary.txt"]
    assert "evil" not in wharf("images", "--format", "{{.Repository}}").stdout
    assert _leftovers(rt) == []


def test_docker_compose_build(docker_host, docker, wharf, rt, tmp_path) -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: apt-get install docker-compose", pytrace=False)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(
        "FROM busybox\nARG GREETING\nRUN echo $GREETING > /msg\nCMD cat /msg\n"
    )
    (tmp_path / "docker-compose.yml").write_text(
        'version: "3"\nservices:\n  app:\n    build:\n      context: app\n'
        "      args:\n        GREETING: composed\n    image: composed:1\n"
    )
    proc = subprocess.run(
        [binary, "-p", f"whb{os.getpid()}", "build"],
        cwd=tmp_path,
        env={**os.environ, "DOCKER_HOST": docker_host, "DOCKER_CONFIG": "/nonexistent-wharf"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert docker("run", "--rm", "composed:1").stdout == "composed\n"
    assert _leftovers(rt) == []


def test_a_client_that_goes_away_cancels_the_build(docker_host, wharf, rt) -> None:
    import socket
    import time

    df = b"FROM busybox\nRUN sleep 60\nCMD true\n"
    info = tarfile.TarInfo("Dockerfile")
    info.size = len(df)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(info, io.BytesIO(df))
    body = buf.getvalue()
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(docker_host.removeprefix("unix://"))
    sock.sendall(
        b"POST /v1.41/build?t=cancelled:1 HTTP/1.1\r\nHost: docker\r\n"
        b"Content-Type: application/x-tar\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    seen, started = b"", time.monotonic()
    while b"Running in" not in seen:
        assert time.monotonic() - started < 30, seen
        seen += sock.recv(65536)
    assert wharf("ps", "-aq").stdout.strip()  # the RUN step's container
    sock.close()
    deadline = time.monotonic() + 45  # the RUN step would take 60 s: well before that
    while wharf("ps", "-aq").stdout.strip() or _leftovers(rt):
        assert time.monotonic() < deadline, "the build went on after its client left"
        time.sleep(0.2)
    assert time.monotonic() - started < 40  # well before the step's sleep would end
    assert "cancelled" not in wharf("images", "--format", "{{.Repository}}").stdout
