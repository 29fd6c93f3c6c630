"""``cp`` stays inside the container: planted symlinks and races never reach the host.

Every test plants a symlink in a real container pointing at a canary on the
host (a path the container itself cannot see) and checks afterwards that the
canary kept its names, contents and mtimes. ``cp`` resolves every container
path inside the container's root (openat2 RESOLVE_IN_ROOT) and writes through
directory fds with O_NOFOLLOW, so the link leads to the container's own path of
that name, or the copy is refused.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from runtime.errors import HostError, WharfError
from tests.integration.hostile import snapshot

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _needs_openat2() -> None:
    from runtime.containers import inroot

    try:
        inroot.require_openat2()
    except HostError as exc:
        pytest.fail(f"cp's confinement needs openat2: {exc}", pytrace=False)


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A host directory with a file the container must never change; mtimes in the past."""
    top = tmp_path / "canary"
    top.mkdir()
    (top / "payload").write_text("host canary\n")
    (top / "f").write_text("host canary f\n")
    (top / "secret").write_text("HOST-SECRET\n")
    past = time.time() - 3600
    for p in (top / "payload", top / "f", top / "secret", top):
        os.utime(p, (past, past))
    return top


def tar_bytes(*members: tuple[str, str, bytes | str]) -> bytes:
    """A tar of (name, kind, data) with kind "file", "dir" or "symlink" (data = target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(data)
                tar.addfile(info)
            else:
                raw = data.encode() if isinstance(data, str) else data
                info.size, info.mode = len(raw), 0o644
                tar.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


def cp_stdin(wharf, data: bytes, dest: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", "cp", "-", dest],
        cwd=REPO,
        env=wharf.env,
        input=data,
        capture_output=True,
        timeout=60,
    )


def cp_stdout(wharf, src: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", "cp", src, "-"],
        cwd=REPO,
        env=wharf.env,
        capture_output=True,
        timeout=60,
    )


def sleeper(wharf, wait_log, script: str = "") -> str:
    """A running container that ran ``script`` (shell lines) first."""
    cid = wharf(
        "run", "-d", "busybox", "sh", "-c", f"{script}\necho ready\nsleep 600"
    ).stdout.strip()
    wait_log(cid)
    return cid


# -- host -> container ------------------------------------------------------------


def test_file_copy_into_a_dir_replaces_a_planted_symlink_inside_the_container(
    wharf, wait_log, tmp_path, canary
):
    """The issue's reproducer: ``ln -s HOSTFILE /tmp/payload; cp payload c:/tmp/``."""
    before = snapshot(canary)
    cid = sleeper(wharf, wait_log)
    wharf("exec", cid, "ln", "-s", str(canary / "payload"), "/tmp/payload")
    src = tmp_path / "payload"
    src.write_text("from the host\n")
    wharf("cp", str(src), f"{cid}:/tmp/")
    assert snapshot(canary) == before
    # docker cp semantics: the existing name is replaced, inside the container
    assert wharf("exec", cid, "cat", "/tmp/payload").stdout == "from the host\n"
    assert wharf("exec", cid, "sh", "-c", "test -L /tmp/payload || echo plain").stdout == "plain\n"


def test_file_copy_onto_a_planted_symlink_follows_it_inside_the_container(
    wharf, wait_log, tmp_path, canary
):
    """A destination that is a symlink is followed as the container sees it: to its own path."""
    before = snapshot(canary)
    cid = sleeper(wharf, wait_log)
    wharf("exec", cid, "ln", "-s", str(canary / "payload"), "/tmp/payload")
    src = tmp_path / "payload"
    src.write_text("from the host\n")
    # the link's target directory does not exist in the container: refused
    missing = wharf("cp", str(src), f"{cid}:/tmp/payload", check=False)
    assert missing.returncode == 1 and "could not find the directory" in missing.stderr
    assert snapshot(canary) == before
    # once the container has that directory, the file lands there: in the container
    wharf("exec", cid, "mkdir", "-p", str(canary))
    wharf("cp", str(src), f"{cid}:/tmp/payload")
    assert snapshot(canary) == before
    assert wharf("exec", cid, "cat", str(canary / "payload")).stdout == "from the host\n"


def test_file_copy_into_a_stopped_container_with_a_planted_symlink(wharf, tmp_path, canary):
    before = snapshot(canary)
    wharf("run", "--name", "stopped", "busybox", "ln", "-s", str(canary / "f"), "/tmp/f")
    src = tmp_path / "f"
    src.write_text("new\n")
    wharf("cp", str(src), "stopped:/tmp/")
    assert snapshot(canary) == before
    out = tmp_path / "back"
    wharf("cp", "stopped:/tmp/f", str(out))
    assert out.read_text() == "new\n" and not out.is_symlink()


def test_directory_copy_through_a_planted_symlink_to_a_host_dir(wharf, wait_log, tmp_path, canary):
    """A subpath of the copied tree is, in the container, a symlink to a host dir."""
    before = snapshot(canary)
    cid = sleeper(wharf, wait_log, f"mkdir -p /tmp/tree && ln -s {canary} /tmp/tree/sub")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("overwritten?\n")  # the canary has an f too
    (tree / "sub" / "new").write_text("new file\n")
    (tree / "top").write_text("top\n")
    wharf("cp", str(tree), f"{cid}:/tmp/")
    assert snapshot(canary) == before
    listing = wharf("exec", cid, "sh", "-c", "test -L /tmp/tree/sub || ls /tmp/tree/sub").stdout
    assert listing.split() == ["f", "new"]
    assert wharf("exec", cid, "cat", "/tmp/tree/sub/f").stdout == "overwritten?\n"
    # the same tree copied to a new name, where the container planted a link as the target
    wharf("exec", cid, "ln", "-s", str(canary), "/tmp/renamed")
    refused = wharf("cp", str(tree), f"{cid}:/tmp/renamed/", check=False)
    assert refused.returncode == 1 and "could not find the directory" in refused.stderr
    assert snapshot(canary) == before
    # ... and once the container has that path, the tree is created there, in the container
    wharf("exec", cid, "mkdir", "-p", str(canary.parent))
    wharf("cp", str(tree), f"{cid}:/tmp/renamed/")
    assert snapshot(canary) == before
    assert wharf("exec", cid, "cat", f"{canary}/sub/new").stdout == "new file\n"


def test_tar_stream_in_through_a_planted_symlink_dir(wharf, wait_log, canary):
    before = snapshot(canary)
    cid = sleeper(wharf, wait_log, f"mkdir -p /tmp/in && ln -s {canary} /tmp/in/planted")
    data = tar_bytes(
        ("planted/payload", "file", "tar payload\n"),
        ("planted/f", "file", "tar f\n"),
    )
    # the link leads to a path the container does not have: refused, nothing written
    refused = cp_stdin(wharf, data, f"{cid}:/tmp/in")
    assert refused.returncode == 1, refused.stderr
    assert snapshot(canary) == before
    # with that path made in the container, the entries land in it: in the container
    wharf("exec", cid, "mkdir", "-p", str(canary))
    done = cp_stdin(wharf, data, f"{cid}:/tmp/in")
    assert done.returncode == 0, done.stderr
    assert snapshot(canary) == before
    assert wharf("exec", cid, "cat", str(canary / "payload")).stdout == "tar payload\n"
    # a link in the archive itself may not lead out, even when a later entry goes through it
    evil = tar_bytes(("a", "symlink", str(canary)), ("a/payload", "file", "x"))
    bad = cp_stdin(wharf, evil, f"{cid}:/tmp/in")
    assert bad.returncode == 1 and b"refusing" in bad.stderr
    assert snapshot(canary) == before


def test_tar_stream_in_while_the_container_swaps_the_dir_for_a_symlink(rt, wharf, wait_log, canary):
    from runtime.containers.copy import untar_to

    before = snapshot(canary)
    cid = sleeper(
        wharf,
        wait_log,
        f"mkdir -p /tmp/race/d && ln -s {canary} /tmp/race/l && cd /tmp/race && "
        "(while :; do mv d sub; mv sub d; mv l sub; mv sub l; done) >/dev/null 2>&1 &",
    )
    data = tar_bytes(
        *[(f"sub/{name}", "file", "raced\n") for name in ("payload", "f", "secret")] * 10
    )
    landed = 0
    for _ in range(300):
        try:
            untar_to(rt.containers, io.BytesIO(data), cid, "/tmp/race")
            landed += 1
        except WharfError:
            pass  # sub was a link to a path the container does not have: refused
    assert snapshot(canary) == before
    assert landed > 0


# -- container -> host ------------------------------------------------------------


def test_copy_from_through_a_container_symlink_to_root_reads_the_container(
    wharf, wait_log, tmp_path
):
    cid = sleeper(
        wharf,
        wait_log,
        "ln -s / /data && ln -s /etc /cfg && ln -s ../../../../../../etc /up "
        "&& echo container-only > /etc/marker",
    )
    container_passwd = wharf("exec", cid, "cat", "/etc/passwd").stdout
    assert container_passwd != Path("/etc/passwd").read_text()
    for n, src in enumerate(
        ["/data/etc/passwd", "/cfg/passwd", "/up/passwd", "/data/../../etc/passwd", "cfg/passwd"]
    ):
        out = tmp_path / f"passwd{n}"
        wharf("cp", f"{cid}:{src}", str(out))
        assert out.read_text() == container_passwd, src
    # a whole directory read through the link is the container's
    wharf("cp", f"{cid}:/cfg/", str(tmp_path / "etc-copy"))
    assert (tmp_path / "etc-copy" / "marker").read_text() == "container-only\n"
    assert (tmp_path / "etc-copy" / "passwd").read_text() == container_passwd
    # the same through a tar stream
    out = cp_stdout(wharf, f"{cid}:/data/etc/passwd")
    assert out.returncode == 0, out.stderr
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        member = tar.extractfile("passwd")
        assert member is not None and member.read().decode() == container_passwd


def test_copy_from_keeps_the_containers_symlinks_as_symlinks(wharf, wait_log, tmp_path, canary):
    before = snapshot(canary)
    cid = sleeper(
        wharf,
        wait_log,
        f"mkdir -p /d/sub && echo q > /d/sub/q && ln -s / /d/root && ln -s /etc/passwd /d/pw "
        f"&& ln -s {canary} /d/a && ln -s {canary}/secret /d/s",
    )
    out = tmp_path / "out"
    out.mkdir()
    wharf("cp", f"{cid}:/d", str(out))
    got = out / "d"
    assert os.readlink(got / "root") == "/" and os.readlink(got / "pw") == "/etc/passwd"
    assert os.readlink(got / "a") == str(canary) and (got / "sub" / "q").read_text() == "q\n"
    assert os.readlink(got / "s") == f"{canary}/secret"
    # a later copy into the same place, where the container turned the symlink into a
    # directory: the host's symlink from the first copy is replaced, never written through
    wharf("exec", cid, "sh", "-c", "rm /d/a /d/s && mkdir /d/a && echo pwned > /d/a/payload")
    wharf("exec", cid, "sh", "-c", "echo pwned > /d/s && echo pwned > /d/a/secret")
    wharf("cp", f"{cid}:/d", str(out))
    assert snapshot(canary) == before
    assert not (got / "a").is_symlink() and (got / "a" / "payload").read_text() == "pwned\n"
    assert not (got / "s").is_symlink() and (got / "s").read_text() == "pwned\n"


def test_copy_from_drops_setuid_and_device_nodes(wharf, wait_log, tmp_path):
    cid = sleeper(
        wharf,
        wait_log,
        "mkdir /x && cp /bin/busybox /x/su && chmod 6755 /x/su && mkfifo /x/fifo "
        "&& mknod /x/null c 1 3; true",
    )
    wharf("cp", f"{cid}:/x", str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["su"]
    assert (tmp_path / "x" / "su").stat().st_mode & 0o7777 == 0o755


# -- races ------------------------------------------------------------------------


def test_copies_into_a_dir_the_container_swaps_for_a_symlink(rt, wharf, wait_log, tmp_path, canary):
    """The container swaps /tmp/race/sub between a directory and a link to the host canary
    while the host copies into it, files and trees, many times."""
    from runtime.containers.copy import copy_to

    before = snapshot(canary)
    cid = sleeper(
        wharf,
        wait_log,
        f"mkdir -p /tmp/race/d && ln -s {canary} /tmp/race/l && cd /tmp/race && "
        "(while :; do mv d sub; mv sub d; mv l sub; mv sub l; done) >/dev/null 2>&1 &",
    )
    payload = tmp_path / "payload"
    payload.write_text("raced\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "f").write_text("raced\n")
    copied = 0
    for i in range(400):
        src = payload if i % 2 else tree
        try:
            copy_to(rt.containers, str(src), cid, "/tmp/race/sub/")
            copied += 1
        except WharfError:
            pass  # the dir was gone or a link to nowhere in the container: refused
        try:
            copy_to(rt.containers, str(payload), cid, "/tmp/race/sub/f")
            copied += 1
        except WharfError:
            pass
    assert snapshot(canary) == before
    assert copied > 0, "no copy ever landed: the race never gave the copy a directory"


def test_copies_out_of_a_dir_the_container_swaps_for_a_symlink(
    rt, wharf, wait_log, tmp_path, canary
):
    """Reading: the container swaps /tmp/race/sub between a directory and a link to a host
    directory holding a secret; no copy may ever carry the host's secret."""
    from runtime.containers.copy import copy_from, tar_from

    cid = sleeper(
        wharf,
        wait_log,
        f"mkdir -p /tmp/race/d && echo container > /tmp/race/d/secret && ln -s {canary} "
        "/tmp/race/l && cd /tmp/race && "
        "(while :; do mv d sub; mv sub d; mv l sub; mv sub l; done) >/dev/null 2>&1 &",
    )
    out = tmp_path / "out"
    copied = 0
    for i in range(300):
        dest = out / str(i)
        dest.mkdir(parents=True)
        for path in ("/tmp/race", "/tmp/race/sub/secret", "/tmp/race/sub/."):
            try:
                copy_from(rt.containers, cid, path, str(dest))
            except WharfError:
                continue  # sub was a link to a path the container does not have
            copied += 1
        buf = io.BytesIO()
        try:
            tar_from(rt.containers, cid, "/tmp/race", buf)
        except WharfError:
            continue
        copied += 1
        assert b"HOST-SECRET" not in buf.getvalue()
    leaked = [
        p
        for p in out.rglob("*")
        if not p.is_symlink() and p.is_file() and b"HOST" in p.read_bytes()
    ]
    assert leaked == []
    assert copied > 0


# -- docker cp's rules, kept ------------------------------------------------------


def test_cp_keeps_dockers_rules_both_ways(wharf, wait_log, tmp_path):
    cid = sleeper(wharf, wait_log, "mkdir -p /tmp/flat /srv/d/sub && echo a > /srv/d/a")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a").write_text("a\n")
    (src / "sub" / "b").write_text("b\n")
    os.chmod(src / "a", 0o750)
    os.utime(src / "a", (1_000_000_000, 1_000_000_000))

    def ls(path: str) -> list[str]:
        return sorted(wharf("exec", cid, "ls", "-A", path).stdout.split())

    wharf("cp", str(src), f"{cid}:/tmp/")  # into an existing dir, under its own name
    assert ls("/tmp/src") == ["a", "sub"] and ls("/tmp/src/sub") == ["b"]
    stat_a = wharf("exec", cid, "stat", "-c", "%a %Y", "/tmp/src/a").stdout.split()
    assert stat_a == ["750", "1000000000"]
    wharf("cp", f"{src}/.", f"{cid}:/tmp/flat")  # SRC/. : the contents
    assert ls("/tmp/flat") == ["a", "sub"]
    wharf("cp", str(src), f"{cid}:/tmp/newname")  # a new name: created with the contents
    assert ls("/tmp/newname") == ["a", "sub"]
    wharf("cp", str(src / "a"), f"{cid}:/tmp/file")
    wharf("cp", str(src / "sub" / "b"), f"{cid}:/tmp/file")  # an existing file: overwritten
    assert wharf("exec", cid, "cat", "/tmp/file").stdout == "b\n"

    def fails(*args: str) -> str:
        proc = wharf("cp", *args, check=False)
        assert proc.returncode == 1, proc  # Docker: a failed cp exits 1
        return proc.stderr

    assert "does not exist" in fails(str(src / "a"), f"{cid}:/tmp/nodir/")
    assert "could not find the directory /nope" in fails(str(src / "a"), f"{cid}:/nope/x")
    assert "cannot overwrite non-directory" in fails(str(src), f"{cid}:/tmp/file")
    assert "could not find the file" in fails(str(tmp_path / "missing"), f"{cid}:/tmp/")

    out = tmp_path / "out"
    assert "destination directory" in fails(f"{cid}:/srv/d", f"{out}/")
    assert fails(f"{cid}:/nope", str(out)) == f"Error: No such container:path: {cid}:/nope\n"
    out.mkdir()
    wharf("cp", f"{cid}:/srv/d", str(out))  # into an existing dir
    assert sorted(p.name for p in (out / "d").iterdir()) == ["a", "sub"]
    wharf("cp", f"{cid}:/srv/d/.", str(out))  # the contents
    assert sorted(p.name for p in out.iterdir()) == ["a", "d", "sub"]
    wharf("cp", f"{cid}:/srv/d", str(tmp_path / "fresh"))  # a new name
    assert (tmp_path / "fresh" / "a").read_text() == "a\n"
    (tmp_path / "host.txt").write_text("old\n")
    wharf("cp", f"{cid}:/srv/d/a", str(tmp_path / "host.txt"))  # an existing file: overwritten
    assert (tmp_path / "host.txt").read_text() == "a\n"
    assert "must be a directory" in cp_stdin(wharf, b"", f"{cid}:/tmp/file").stderr.decode()
