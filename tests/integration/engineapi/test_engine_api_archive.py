"""``docker cp`` and ``docker export`` through the Engine API: ``/containers/{id}/archive``
(HEAD, GET, PUT) and ``/containers/{id}/export``, driven by the real docker CLI and
docker-py, with the container planting symlinks toward a host canary."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.integration.hostile import snapshot


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A host directory whose files the container must never read nor change."""
    top = tmp_path / "canary"
    top.mkdir()
    (top / "payload").write_text("host canary\n")
    (top / "secret").write_text("HOST-SECRET\n")
    past = time.time() - 3600
    for p in (top / "payload", top / "secret", top):
        os.utime(p, (past, past))
    return top


def tar_of(*members: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def wait_file(docker, ctr: str, path: str) -> None:
    deadline = time.monotonic() + 15
    while docker("exec", ctr, "test", "-e", path, check=False).returncode != 0:
        assert time.monotonic() < deadline, f"{path} never appeared in {ctr}"
        time.sleep(0.1)


def test_docker_cp_copies_out_and_in(docker, docker_host: str, tmp_path: Path) -> None:
    docker(
        "run", "-d", "--name", "cp1", "busybox", "sh", "-c",
        "mkdir -p /srv/d/sub && echo a > /srv/d/a && echo b > /srv/d/sub/b"
        " && ln -s a /srv/d/l && touch /srv/ready; sleep 300",
    )  # fmt: skip
    wait_file(docker, "cp1", "/srv/ready")
    out = tmp_path / "out"
    out.mkdir()
    docker("cp", "cp1:/srv/d", str(out))
    assert (out / "d" / "a").read_text() == "a\n"
    assert (out / "d" / "sub" / "b").read_text() == "b\n"
    assert os.readlink(out / "d" / "l") == "a"  # a symlink stays a symlink
    docker("cp", "cp1:/srv/d/a", str(tmp_path / "renamed"))
    assert (tmp_path / "renamed").read_text() == "a\n"
    docker("cp", "cp1:/srv/d/.", str(tmp_path / "contents"))
    assert sorted(p.name for p in (tmp_path / "contents").iterdir()) == ["a", "l", "sub"]
    # a tar on stdout, as the daemon sent it
    raw = subprocess.run(
        ["docker", "cp", "cp1:/srv/d/sub", "-"],
        env={**os.environ, "DOCKER_HOST": docker_host, "DOCKER_CONFIG": "/nonexistent-wharf"},
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        assert sorted(tar.getnames()) == ["sub", "sub/b"]

    src = tmp_path / "src"
    (src / "inner").mkdir(parents=True)
    (src / "f").write_text("from the host\n")
    (src / "inner" / "g").write_text("g\n")
    os.chmod(src / "f", 0o750)
    docker("cp", str(src), "cp1:/srv")  # into an existing directory, under its name
    docker("cp", str(src / "f"), "cp1:/srv/newname")  # a new name
    docker("cp", str(src / "f"), "cp1:/srv/d/a")  # an existing file: replaced
    shown = docker(
        "exec", "cp1", "sh", "-c",
        "cat /srv/src/f /srv/src/inner/g /srv/newname /srv/d/a; stat -c '%a %u' /srv/src/f",
    ).stdout  # fmt: skip
    assert shown == "from the host\ng\nfrom the host\nfrom the host\n750 0\n"
    os.chown(src / "f", 4321, 4321)
    docker("cp", "-a", str(src / "f"), "cp1:/srv/owned")  # copyUIDGID: the archive's owner
    assert docker("exec", "cp1", "stat", "-c", "%u:%g", "/srv/owned").stdout == "4321:4321\n"


def test_cp_works_on_a_stopped_container_and_leaves_no_mount(
    docker, wharf_paths, tmp_path: Path
) -> None:
    docker("run", "--name", "cp2", "busybox", "sh", "-c", "echo kept > /kept")
    docker("cp", "cp2:/kept", str(tmp_path / "kept"))
    assert (tmp_path / "kept").read_text() == "kept\n"
    (tmp_path / "in").write_text("in\n")
    docker("cp", str(tmp_path / "in"), "cp2:/in")
    docker("start", "-a", "cp2")  # the container's own view of what was copied in
    docker("cp", "cp2:/in", str(tmp_path / "back"))
    assert (tmp_path / "back").read_text() == "in\n"
    views = [m for m in Path("/proc/mounts").read_text().splitlines() if "/view-" in m]
    assert not [m for m in views if str(wharf_paths.run) in m], views  # other tests' are theirs


def test_archive_shapes_and_errors_through_docker_py(client, docker) -> None:
    import docker as docker_py

    docker(
        "run", "-d", "--name", "cp3", "busybox", "sh", "-c",
        "mkdir /d && echo hi > /d/f && ln -s /d/f /lnk && touch /ready; sleep 300",
    )  # fmt: skip
    wait_file(docker, "cp3", "/ready")
    c = client.containers.get("cp3")
    chunks, st = c.get_archive("/d/f")
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        assert tar.getnames() == ["f"]
        assert tar.extractfile("f").read() == b"hi\n"
    assert st["name"] == "f" and st["size"] == 3 and st["mode"] == 0o644
    assert st["linkTarget"] == "" and st["mtime"].endswith("Z")
    _, st = c.get_archive("/d")
    assert st["mode"] == (1 << 31) | 0o755  # Go's os.ModeDir
    # HEAD: the stat alone, in its header
    reply = client.api.head(client.api._url("/containers/cp3/archive"), params={"path": "/lnk"})
    assert reply.status_code == 200
    st = json.loads(base64.b64decode(reply.headers["X-Docker-Container-Path-Stat"]))
    assert st["mode"] & (1 << 27) and st["linkTarget"] == "/d/f"  # Go's os.ModeSymlink

    assert c.put_archive("/d", tar_of(("new", b"put\n"))) is True
    assert docker("exec", "cp3", "cat", "/d/new").stdout == "put\n"
    cases = [
        (lambda: c.get_archive("/nope"), 404, "Could not find the file /nope"),
        (lambda: c.put_archive("/nope", tar_of(("x", b"")))  , 404, "Could not find the file"),
        (lambda: c.put_archive("/d/f", tar_of(("x", b""))), 400, "must be a directory"),
        (lambda: c.put_archive("/d", tar_of(("../x", b"")))  , 400, "outside"),
        (lambda: c.get_archive(""), 400, "path cannot be empty"),
        (lambda: client.containers.get("cp3").put_archive("/d", b"not a tar"), 400, ""),
    ]  # fmt: skip
    for call, status, text in cases:
        with pytest.raises(docker_py.errors.APIError) as info:
            call()
        assert info.value.status_code == status, info.value.explanation
        assert text in (info.value.explanation or "")
    assert docker("exec", "cp3", "ls", "/d").stdout.split() == ["f", "new"]  # nothing added
    proc = docker("cp", "nosuch:/x", "/tmp/wharf-never", check=False)
    assert proc.returncode == 1 and "nosuch" in proc.stderr


def test_docker_cp_stays_inside_the_container(docker, client, canary: Path, tmp_path) -> None:
    """The container plants links to the host's canary (absolute, ``../`` climbing, and
    a directory swapped for a link): every copy through the API reaches the
    container's own path of that name or is refused; the canary never changes."""
    before = snapshot(canary)
    climb = "../" * 12
    docker(
        "run", "-d", "--name", "evil", "busybox", "sh", "-c",
        f"mkdir -p {canary} && echo container > {canary}/payload"
        f" && ln -s {canary} /abs && ln -s {climb} /up && ln -s /etc /etclink"
        f" && mkdir -p /drop && ln -s {canary} /drop/src && touch /ready; sleep 300",
    )  # fmt: skip
    wait_file(docker, "evil", "/ready")
    host_file = tmp_path / "payload"
    host_file.write_text("ATTACK\n")

    # into: through the absolute link, the climbing link and the followed linkTarget
    docker("cp", str(host_file), "evil:/abs/payload")
    docker("cp", str(host_file), f"evil:/up{canary}/written")
    docker("cp", str(host_file), "evil:/abs")  # dst is a link to a directory: copied into it
    listing = docker("exec", "evil", "sh", "-c", f"cat {canary}/payload; ls {canary}").stdout
    assert listing == "ATTACK\npayload\nwritten\n"
    # a directory over a planted link is refused (noOverwriteDirNonDir), the link kept
    src = tmp_path / "src"
    src.mkdir()
    (src / "payload").write_text("ATTACK\n")
    proc = docker("cp", str(src), "evil:/drop", check=False)
    assert proc.returncode == 1 and "cannot overwrite non-directory" in proc.stderr
    assert docker("exec", "evil", "readlink", "/drop/src").stdout.strip() == str(canary)
    # a tar put through a link to the container's /etc lands in the container's /etc
    c = client.containers.get("evil")
    assert c.put_archive("/etclink", tar_of(("wharf-canary-probe", b"x\n")))
    assert docker("exec", "evil", "cat", "/etc/wharf-canary-probe").stdout == "x\n"
    assert not Path("/etc/wharf-canary-probe").exists()

    # out: the links are copied as links, or followed inside the container (-L)
    out = tmp_path / "out"
    out.mkdir()
    docker("cp", "evil:/abs", str(out))
    assert os.readlink(out / "abs") == str(canary)  # the link itself, not the host's files
    docker("cp", "-L", "evil:/abs", str(out / "followed"))
    assert (out / "followed" / "payload").read_text() == "ATTACK\n"
    assert not (out / "followed" / "secret").exists()
    docker("cp", f"evil:/up{canary}/.", str(out / "climbed"))
    assert sorted(p.name for p in (out / "climbed").iterdir()) == ["payload", "written"]
    proc = docker("cp", f"evil:/up{canary}/secret", str(out / "secret"), check=False)
    assert proc.returncode == 1 and not (out / "secret").exists()
    _, st = c.get_archive("/up")
    assert st["linkTarget"] == "/"  # the climb ends at the container's root
    assert "HOST-SECRET" not in "".join(
        p.read_text() for p in out.rglob("*") if p.is_file() and not p.is_symlink()
    )
    assert snapshot(canary) == before


def test_docker_export_writes_the_rootfs(docker, tmp_path: Path) -> None:
    docker("run", "--name", "ex1", "busybox", "sh", "-c", "echo exported > /marker")
    target = tmp_path / "fs.tar"
    docker("export", "-o", str(target), "ex1")
    with tarfile.open(target) as tar:
        names = tar.getnames()
        assert tar.extractfile("marker").read() == b"exported\n"
    assert "bin/sh" in names and ".dockerenv" in names
    proc = docker("export", "-o", str(tmp_path / "none.tar"), "nosuch", check=False)
    assert proc.returncode == 1 and "nosuch" in proc.stderr
