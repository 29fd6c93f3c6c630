"""Layers are applied exactly, whiteouts work through a real overlay mount, escapes are refused."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from image_helpers import make_tar, store_state

from runtime.errors import InvalidArgument


def _import(rt, layer: bytes, ref: str = "layer:test"):
    return rt.images.import_rootfs(io.BytesIO(layer), ref)


def test_it_applies_every_entry_kind_exactly(rt):
    layer = make_tar(
        [
            ("etc", "dir", {"mode": 0o750, "uid": 12, "gid": 34, "mtime": 1_500_000_000}),
            (
                "etc/file",
                "file",
                {
                    "data": b"hello",
                    "mode": 0o4755,
                    "uid": 1234,
                    "gid": 5678,
                    "mtime": 1_234_567_890,
                    "pax": {"SCHILY.xattr.user.color": "blue"},
                },
            ),
            ("etc/hard", "link", {"target": "etc/file"}),
            ("abs", "symlink", {"target": "/etc/passwd", "uid": 7, "gid": 8}),
            ("dev/null", "chr", {"dev": (1, 3), "mode": 0o666}),
            ("pipe", "fifo", {"mode": 0o600}),
        ],
        compress="gzip",
    )
    image = _import(rt, layer)
    (diff,) = rt.images.layer_paths(image)
    st = os.lstat(diff / "etc/file")
    assert (diff / "etc/file").read_bytes() == b"hello"
    assert stat.S_IMODE(st.st_mode) == 0o4755 and (st.st_uid, st.st_gid) == (1234, 5678)
    assert st.st_mtime == 1_234_567_890
    assert os.getxattr(diff / "etc/file", "user.color") == b"blue"
    assert os.lstat(diff / "etc/hard").st_ino == st.st_ino and st.st_nlink == 2
    dst = os.lstat(diff / "etc")
    assert stat.S_IMODE(dst.st_mode) == 0o750 and dst.st_mtime == 1_500_000_000
    assert (dst.st_uid, dst.st_gid) == (12, 34)
    assert os.readlink(diff / "abs") == "/etc/passwd"
    assert (os.lstat(diff / "abs").st_uid, os.lstat(diff / "abs").st_gid) == (7, 8)
    dev = os.lstat(diff / "dev/null")
    assert stat.S_ISCHR(dev.st_mode) and (os.major(dev.st_rdev), os.minor(dev.st_rdev)) == (1, 3)
    assert stat.S_ISFIFO(os.lstat(diff / "pipe").st_mode)
    # the diff id is the digest of the plain tar
    assert image.diff_ids == ["sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()]


@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_it_detects_the_compression(rt, compress):
    layer = make_tar([("hello.txt", "file", {"data": b"hi " + compress.encode()})], compress)
    image = _import(rt, layer)
    (diff,) = rt.images.layer_paths(image)
    assert (diff / "hello.txt").read_bytes() == b"hi " + compress.encode()


def _docker_archive(tmp_path: Path, layers: list[bytes], tag: str) -> Path:
    """Write a docker-save style directory holding an image made of these plain layers."""
    root = tmp_path / "archive"
    root.mkdir()
    names = []
    for layer in layers:
        digest = hashlib.sha256(layer).hexdigest()
        (root / f"{digest}.tar").write_bytes(layer)
        names.append(f"{digest}.tar")
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + n[:-4] for n in names]},
        }
    ).encode()
    (root / "config.json").write_bytes(config)
    (root / "manifest.json").write_text(
        json.dumps([{"Config": "config.json", "RepoTags": [tag], "Layers": names}])
    )
    return root


def test_whiteouts_across_three_layers_through_a_real_overlay_mount(rt, tmp_path):
    from runtime.images import archive

    base = make_tar(
        [
            ("a", "dir"),
            ("a/f1", "file", {"data": b"1"}),
            ("a/f2", "file", {"data": b"2"}),
            ("b", "dir"),
            ("b/x", "file", {"data": b"x"}),
            ("c", "file", {"data": b"c"}),
        ]
    )
    middle = make_tar(
        [
            ("a", "dir"),
            ("a/.wh.f1", "file"),  # delete a/f1
            ("b", "dir"),
            ("b/.wh..wh..opq", "file"),
            ("b/y", "file", {"data": b"y"}),  # opaque b
            ("d", "file", {"data": b"d"}),
        ]
    )
    top = make_tar(
        [
            (".wh.c", "file"),
            ("a", "dir"),
            ("a/f1", "file", {"data": b"new"}),
            (".wh.d", "file"),
        ]
    )
    (image,) = archive.load(rt.images, _docker_archive(tmp_path, [base, middle, top], "wo:1"))
    paths = rt.images.layer_paths(image)
    assert len(paths) == 3
    mid = paths[1]
    wh = os.lstat(mid / "a/f1")
    assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == 0
    assert os.getxattr(mid / "b", "trusted.overlay.opaque") == b"y"
    assert not (mid / "b/.wh..wh..opq").exists()
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    lower = ":".join(str(p) for p in reversed(paths))
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower}", str(mnt)], check=True
    )
    try:
        assert sorted(os.listdir(mnt)) == ["a", "b"]
        assert sorted(os.listdir(mnt / "a")) == ["f1", "f2"]
        assert (mnt / "a/f1").read_bytes() == b"new"
        assert sorted(os.listdir(mnt / "b")) == ["y"]
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_short_layer_links_mount_a_deep_stack(rt, busybox_image, tmp_path):
    image = busybox_image
    for i in range(60):  # far more than absolute lowerdir paths fit in one page
        upper = tmp_path / f"u{i}"
        upper.mkdir()
        (upper / f"step{i}").write_text(str(i))
        image = rt.images.commit(image, upper, {}, created_by=f"step {i}")
    links = rt.images.layer_links(image)
    assert len(links) == 61 and len(":".join(map(str, rt.images.layer_paths(image)))) > 4096
    relative = [str(p.relative_to(rt.paths.root)) for p in links]
    for lower, cwd in (
        (":".join(map(str, reversed(links))), None),
        (":".join(reversed(relative)), rt.paths.root),
    ):
        mnt = tmp_path / "deep"
        mnt.mkdir(exist_ok=True)
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower}", str(mnt)],
            check=True,
            cwd=cwd,
        )
        try:
            assert (mnt / "step59").read_text() == "59" and (mnt / "bin/busybox").exists()
        finally:
            subprocess.run(["umount", str(mnt)], check=True)
    rt.images.prune(all=True)
    assert os.listdir(rt.paths.root / "l") == []


def test_commit_turns_overlay_deletions_into_whiteouts(rt, busybox_image, tmp_path):
    dirs = {n: tmp_path / n for n in ("upper", "work", "merged")}
    for d in dirs.values():
        d.mkdir()
    lower = ":".join(str(p) for p in reversed(rt.images.layer_paths(busybox_image)))
    subprocess.run(
        [
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={lower},upperdir={dirs['upper']},workdir={dirs['work']}",
            str(dirs["merged"]),
        ],
        check=True,
    )
    try:
        merged = dirs["merged"]
        os.unlink(merged / "etc/hostname")
        subprocess.run(["rm", "-rf", str(merged / "usr/sbin")], check=True)
        (merged / "usr/sbin").mkdir()
        (merged / "usr/sbin/tool").write_text("t")
        (merged / "new.txt").write_text("n")
    finally:
        subprocess.run(["umount", str(dirs["merged"])], check=True)
    new = rt.images.commit(
        busybox_image,
        dirs["upper"],
        {"Cmd": ["cat", "/new.txt"]},
        created_by="test commit",
        tags=["committed:1"],
    )
    assert new.diff_ids[:1] == busybox_image.diff_ids and len(new.diff_ids) == 2
    assert new.config["config"]["Cmd"] == ["cat", "/new.txt"]
    assert new.config["history"][-1]["created_by"] == "test commit"
    mnt = tmp_path / "check"
    mnt.mkdir()
    lower = ":".join(str(p) for p in reversed(rt.images.layer_paths(new)))
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower}", str(mnt)], check=True
    )
    try:
        assert not (mnt / "etc/hostname").exists() and (mnt / "etc/passwd").exists()
        assert os.listdir(mnt / "usr/sbin") == ["tool"]
        assert (mnt / "new.txt").read_text() == "n"
        assert (mnt / "bin/sh").exists()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    # a metadata-only step adds history, no layer
    meta = rt.images.commit(new, None, {"Cmd": ["true"]}, created_by="CMD true")
    assert meta.diff_ids == new.diff_ids and meta.config["history"][-1]["empty_layer"] is True


# --- escapes: each refused with the entry named, nothing left behind -----------------------

ESCAPES = {
    "dotdot": ([("../evil", "file", {"data": b"x"})], "../evil"),
    "dotdot-inside": ([("a", "dir"), ("a/../../evil", "file", {"data": b"x"})], "a/../../evil"),
    "absolute": ([("/evil", "file", {"data": b"x"})], "/evil"),
    "through-symlink": (
        [("link", "symlink", {"target": "/tmp"}), ("link/evil", "file", {"data": b"x"})],
        "link/evil",
    ),
    "through-relative-symlink": (
        [("up", "symlink", {"target": "../../../.."}), ("up/evil", "file", {"data": b"x"})],
        "up/evil",
    ),
    "hardlink-outside": ([("h", "link", {"target": "../../../etc/passwd"})], "h"),
    "hardlink-absolute": ([("h", "link", {"target": "/etc/passwd"})], "h"),
    "hardlink-through-symlink": (
        [("link", "symlink", {"target": "/etc"}), ("h", "link", {"target": "link/passwd"})],
        "h",
    ),
    "whiteout-dotdot": ([("a", "dir"), ("a/.wh...", "file")], "a/.wh..."),
    "whiteout-dot": ([(".wh..", "file")], ".wh.."),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_it_refuses_an_escaping_entry(rt, busybox_image, tmp_path, case):
    entries, bad_name = ESCAPES[case]
    # a good entry first, so something is already unpacked when the bad one comes
    layer = make_tar([("ok", "dir"), ("ok/file", "file", {"data": b"fine"}), *entries])
    sentinel = Path("/tmp/evil")
    assert not sentinel.exists()
    before = store_state(rt)
    with pytest.raises(InvalidArgument) as err:
        _import(rt, layer, "evil:1")
    assert repr(bad_name) in str(err.value)
    assert store_state(rt) == before
    assert not sentinel.exists() and not Path("/var/tmp/evil").exists()


def test_it_stops_a_gzip_bomb_at_the_size_limit(rt):
    rt.images.max_layer_size = 1 << 20
    bomb = gzip.compress(make_tar([("zeros", "file", {"data": bytes(4 << 20)})]))
    assert len(bomb) < 64 << 10
    before = store_state(rt)
    with pytest.raises(InvalidArgument, match="decompressed size limit"):
        _import(rt, bomb)
    assert store_state(rt) == before


def test_it_refuses_garbage_and_truncated_layers(rt):
    before = store_state(rt)
    for compress in ("gzip", "zstd"):
        good = make_tar([("f", "file", {"data": os.urandom(100_000)})], compress=compress)
        with pytest.raises(
            InvalidArgument, match="truncated|corrupt|unexpected end|not a valid tar"
        ):
            _import(rt, good[: len(good) // 2])
    for garbage in (
        b"(\xb5/\xfd" + b"junk" * 100,
        b"\xfd7zXZ\x00" + b"x" * 100,
        b"BZh9" + b"y" * 100,
        b"\x1f\x8b" + b"z" * 100,
    ):
        with pytest.raises(InvalidArgument, match="not valid|corrupt|truncated"):
            _import(rt, garbage)
    with pytest.raises(InvalidArgument, match="not a valid tar"):
        _import(rt, b"this is not a tar archive at all" * 40)
    assert store_state(rt) == before


def test_tar_written_for_commit_is_deterministic(tmp_path):
    from runtime.images.layers import write_layer_from_upper

    upper = tmp_path / "u"
    (upper / "d").mkdir(parents=True)
    (upper / "d/f").write_text("x")
    os.link(upper / "d/f", upper / "d/g")
    os.mknod(upper / "gone", stat.S_IFCHR, 0)
    outs = []
    for _ in range(2):
        buf = io.BytesIO()
        write_layer_from_upper(upper, buf)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]
    with tarfile.open(fileobj=io.BytesIO(outs[0])) as tar:
        names = {m.name: m for m in tar}
    assert ".wh.gone" in names and names["d/g"].islnk() and names["d/g"].linkname == "d/f"
