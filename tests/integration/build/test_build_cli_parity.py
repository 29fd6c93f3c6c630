"""Builds through the real CLI behave as Docker's: .dockerignore exceptions, ``-f``
outside the context, the default PATH, ``COPY --chown`` parents, Go durations, and
one applier for build, ``commit -c`` and ``import -c``."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

DOCKER_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def inspect(wharf, name: str) -> dict:
    return json.loads(wharf("image", "inspect", name).stdout)[0]


def test_a_dockerignore_exception_under_an_excluded_dir_is_copied(wharf, tmp_path: Path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.txt").write_text("a\n")
    (tmp_path / "dir" / "keep.txt").write_text("keep\n")
    (tmp_path / ".dockerignore").write_text("dir\n!dir/keep.txt\n")
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY dir/ /out/\n")
    wharf("build", "-q", "--network", "none", "-t", "kept:1", str(tmp_path))
    r = wharf("run", "--rm", "--network", "none", "kept:1", "ls", "-A", "/out")
    assert r.stdout == "keep.txt\n"


def test_an_excluded_dir_with_nothing_let_through_is_still_refused(wharf, tmp_path: Path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.txt").write_text("a\n")
    (tmp_path / ".dockerignore").write_text("dir\n")
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY dir/ /out/\n")
    r = wharf("build", "-q", "--network", "none", str(tmp_path), check=False)
    assert r.returncode != 0 and "excluded by .dockerignore" in r.stderr


def test_a_dockerfile_outside_the_context_is_used(wharf, tmp_path: Path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text("hello\n")
    outside = tmp_path / "elsewhere" / "app.Dockerfile"
    outside.parent.mkdir()
    outside.write_text('FROM busybox\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n')
    wharf("build", "-q", "--network", "none", "-f", str(outside), "-t", "outside:1", str(ctx))
    assert wharf("run", "--rm", "--network", "none", "outside:1").stdout == "hello\n"


def test_a_base_without_env_gets_dockers_default_path(wharf, tmp_path: Path):
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        info = tarfile.TarInfo("etc/motd")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    wharf("import", str(rootfs), "bare:1")
    assert not inspect(wharf, "bare:1")["Config"].get("Env")
    (tmp_path / "Dockerfile").write_text("FROM bare:1\nLABEL built=yes\n")
    wharf("build", "-q", "--network", "none", "-t", "onbare:1", str(tmp_path))
    assert inspect(wharf, "onbare:1")["Config"]["Env"] == [DOCKER_PATH]


def test_copy_chown_makes_missing_parents_with_that_owner(wharf, tmp_path: Path):
    (tmp_path / "hello.txt").write_text("hello\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\n"
        "COPY --chown=1000:1001 hello.txt /new/dir/file\n"
        "COPY --chown=1000:1001 hello.txt /tmp/file\n"
    )
    wharf("build", "-q", "--network", "none", "-t", "owned:1", str(tmp_path))
    r = wharf(
        "run", "--rm", "--network", "none", "owned:1",
        "stat", "-c", "%n %u:%g %a", "/new", "/new/dir", "/new/dir/file", "/tmp", "/tmp/file",
    )  # fmt: skip
    assert r.stdout.splitlines() == [
        "/new 1000:1001 755",
        "/new/dir 1000:1001 755",
        "/new/dir/file 1000:1001 644",
        "/tmp 0:0 1777",  # the image's own directory keeps its owner and mode
        "/tmp/file 1000:1001 644",
    ]


def test_copy_leaves_the_images_directories_as_they_are(wharf, tmp_path: Path):
    (tmp_path / "hello.txt").write_text("hello\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\n"
        "RUN mkdir -p /opt/a && chmod 700 /opt/a && chown 7:7 /opt/a\n"
        "COPY hello.txt /tmp/x\n"
        "COPY hello.txt /opt/a/b/c\n"
    )
    wharf("build", "-q", "--network", "none", "-t", "kept-dirs:1", str(tmp_path))
    r = wharf(
        "run", "--rm", "--network", "none", "kept-dirs:1",
        "stat", "-c", "%n %u:%g %a", "/tmp", "/opt/a", "/opt/a/b",
    )  # fmt: skip
    assert r.stdout.splitlines() == ["/tmp 0:0 1777", "/opt/a 7:7 700", "/opt/a/b 0:0 755"]


def test_healthcheck_takes_go_durations(wharf, tmp_path: Path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nHEALTHCHECK --interval=1m30s --timeout=1.5s CMD true\n"
    )
    wharf("build", "-q", "--network", "none", "-t", "hc:1", str(tmp_path))
    assert inspect(wharf, "hc:1")["Config"]["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 90_000_000_000,
        "Timeout": 1_500_000_000,
    }


def test_commit_and_import_changes_mean_what_build_means(wharf, tmp_path: Path):
    wharf("create", "--name", "src", "--network", "none", "busybox", "true")
    changes = [
        "-c", "ENV A hello world",
        "-c", "ONBUILD RUN echo child",
        "-c", "HEALTHCHECK --interval=1m30s CMD true",
    ]  # fmt: skip
    wharf("commit", *changes, "src", "committed:1")
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        tar.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
    wharf("import", *changes, str(rootfs), "imported:1")
    for name in ("committed:1", "imported:1"):
        cfg = inspect(wharf, name)["Config"]
        assert "A=hello world" in cfg["Env"], name
        assert cfg["OnBuild"] == ["RUN echo child"], name
        assert cfg["Healthcheck"]["Interval"] == 90_000_000_000, name
    r = wharf("commit", "-c", "RUN true", "src", "bad:1", check=False)
    assert r.returncode != 0 and "RUN is not a valid change command" in r.stderr
    r = wharf("import", "-c", "RUN true", str(rootfs), "bad:2", check=False)
    assert r.returncode != 0 and "RUN is not a valid change command" in r.stderr


def test_a_dockerfile_inside_the_context_or_on_stdin_with_a_context(wharf, tmp_path: Path):
    (tmp_path / "hello.txt").write_text("hello\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile.dev").write_text('FROM busybox\nCMD ["echo", "dev"]\n')
    (tmp_path / ".dockerignore").write_text("sub\n")  # Docker still reads the named Dockerfile
    path = str(tmp_path / "sub" / "Dockerfile.dev")
    wharf("build", "-q", "--network", "none", "-f", path, "-t", "dev:1", str(tmp_path))
    assert wharf("run", "--rm", "--network", "none", "dev:1").stdout == "dev\n"
    stdin = 'FROM busybox\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n'
    wharf(
        "build", "-q", "--network", "none", "-f", "-", "-t", "piped:1", str(tmp_path), input=stdin
    )
    assert wharf("run", "--rm", "--network", "none", "piped:1").stdout == "hello\n"
