"""Hostile image archives at the host's doors: ``wharf load``, ``wharf import`` and the
Engine API's ``POST /images/load`` (docker-py).

An archive comes from whoever uploads it (a team member through the site's image
upload, a client of the socket), so the tar itself is the attacker: names with
``..``, absolute names, a link then a write through it, hard links out, device nodes,
manifests naming paths outside, and sparse entries whose few bytes declare
terabytes. Each is refused with one error line (or, for an absolute name, kept inside
the staging directory as tarfile's ``data`` filter does), the store is the same after
as before, and a canary file on the host is untouched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import time
from pathlib import Path

import pytest
from image_helpers import make_tar, store_state

from runtime.errors import InvalidArgument
from runtime.images import archive
from tests.integration.hostile import sparse_entry as _sparse
from tests.integration.hostile import tar_entry as _info

LAYER = make_tar([("ok", "dir"), ("ok/file", "file", {"data": b"fine"})])
CANARY_TEXT = "the host's own file\n"


@pytest.fixture
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host file outside the Wharf root that no archive may reach."""
    path = tmp_path_factory.mktemp("host") / "CANARY"
    path.write_text(CANARY_TEXT)
    os.chmod(path, 0o644)
    return path


def _config(layer: bytes) -> bytes:
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()],
            },
        }
    ).encode()


def _archive(
    *extra: tuple,
    layer: bytes = LAYER,
    config_name: str = "config.json",
    layer_name: str = "layer.tar",
    first: tuple = (),
) -> bytes:
    """A docker-save archive of one image (``hostile:1``), with ``extra`` entries after it
    and ``first`` before it; its manifest names ``config_name`` and ``layer_name``."""
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": ["hostile:1"], "Layers": [layer_name]}]
    )
    entries = [
        *first,
        _info("layer.tar", data=layer),
        _info("config.json", data=_config(layer)),
        _info("manifest.json", data=manifest.encode()),
        *extra,
    ]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


HOSTILE = {
    "dotdot-entry": (lambda c: _archive(_info(f"../../../../..{c}", data=b"owned")), "outside"),
    "symlink-then-write": (
        lambda c: _archive(_info("evil", "symlink", linkname="/"), _info(f"evil{c}", data=b"o")),
        "'evil'",
    ),
    "relative-symlink-out": (
        lambda c: _archive(
            _info("up", "symlink", linkname="../../../../../.."), _info(f"up{c}", data=b"o")
        ),
        "'up'",
    ),
    "hardlink-to-host-path": (lambda c: _archive(_info("h", "link", linkname=str(c))), "'h'"),
    "hardlink-out-of-the-archive": (
        lambda c: _archive(_info("h", "link", linkname=f"../../../../..{c}")),
        "'h'",
    ),
    "char-device": (lambda c: _archive(_info("mem", "chr", devmajor=1, devminor=1)), "'mem'"),
    "block-device": (lambda c: _archive(_info("disk", "blk", devmajor=8, devminor=0)), "'disk'"),
    "config-outside": (lambda c: _archive(config_name="../../x"), "outside"),
    "config-absolute": (lambda c: _archive(config_name=str(c)), "outside"),
    "layer-absolute": (lambda c: _archive(layer_name=str(c)), "outside"),
    "layer-outside": (lambda c: _archive(layer_name="../../../../../etc/passwd"), "outside"),
    "whiteout-dotdot-in-layer": (
        lambda c: _archive(layer=make_tar([("a", "dir"), ("a/.wh...", "file")])),
        "a/.wh...",
    ),
    "hardlink-in-layer-to-host": (
        lambda c: _archive(layer=make_tar([("h", "link", {"target": str(c)})])),
        "'h'",
    ),
    # a few bytes declaring 64 GiB: read whole, this took 10 GB of memory
    "sparse-manifest": (
        lambda c: _archive(first=(_sparse("manifest.json", 64 << 30),)),
        "sparse",
    ),
    "sparse-config": (
        lambda c: _archive(_sparse("big.json", 64 << 30), config_name="big.json"),
        "sparse",
    ),
    "sparse-file-in-layer": (
        lambda c: _archive(layer=_layer_with(_sparse("big", 1 << 40))),
        "sparse",
    ),
    # a terabyte declared: refused by the unpacked size limit before a byte is written
    "huge-declared-size": (
        lambda c: _archive(_truncated("blob", 1 << 40)),
        "bytes unpacked",
    ),
}


def _layer_with(entry: tuple) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(entry[0], io.BytesIO(entry[1]))
    return buf.getvalue()


def _truncated(name: str, size: int) -> tuple:
    """A header declaring ``size`` bytes (as a PAX size) with 1 KiB of body behind it."""
    info = tarfile.TarInfo(name)
    info.size = 1024
    info.pax_headers = {"size": str(size)}
    return info, bytes(1024)


def _assert_host_untouched(canary: Path) -> None:
    assert canary.read_text() == CANARY_TEXT
    assert oct(canary.stat().st_mode & 0o7777) == oct(0o644)
    assert canary.stat().st_nlink == 1
    assert not Path(f"/{canary.name}").exists()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_wharf_load_refuses_a_hostile_archive(wharf, rt, canary, tmp_path, case) -> None:
    build, match = HOSTILE[case]
    path = tmp_path / "hostile.tar"
    path.write_bytes(build(canary))
    before = store_state(rt)
    started = time.monotonic()
    proc = wharf("load", "-i", str(path), check=False)
    assert time.monotonic() - started < 30
    assert proc.returncode == 1, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr

    assert re.search(match, lines[0]), lines[0]
    assert store_state(rt) == before
    _assert_host_untouched(canary)
    assert "hostile:1" not in wharf("images").stdout


def test_an_absolute_entry_stays_inside_the_archive(wharf, rt, canary, tmp_path) -> None:
    """tarfile's ``data`` filter makes ``/host/CANARY`` a relative name: the image loads,
    the host file is untouched and nothing of the archive stays behind."""
    path = tmp_path / "abs.tar"
    path.write_bytes(_archive(_info(str(canary), data=b"owned")))
    proc = wharf("load", "-i", str(path))
    assert "Loaded image: hostile:1" in proc.stdout
    _assert_host_untouched(canary)
    assert store_state(rt)["staging"] == []


def test_a_compressed_archive_stops_at_the_unpacked_size_limit(rt, tmp_path) -> None:
    """A gzip bomb: 4 MiB of zeros in a few KiB; past ``max_archive_size`` (host config)
    the load stops before writing the entry, and the staging directory goes."""
    import gzip

    rt.images.max_archive_size = 1 << 20
    bomb = gzip.compress(_archive(_info("zeros", data=bytes(4 << 20))))
    assert len(bomb) < 64 << 10
    before = store_state(rt)
    with pytest.raises(InvalidArgument, match="larger than 1048576 bytes unpacked"):
        archive.load(rt.images, io.BytesIO(bomb))
    assert store_state(rt) == before


def test_wharf_import_refuses_a_sparse_rootfs(wharf, rt, canary, tmp_path) -> None:
    path = tmp_path / "rootfs.tar"
    path.write_bytes(_layer_with(_sparse("big", 1 << 40)))
    before = store_state(rt)
    proc = wharf("import", str(path), "sparse:1", check=False)
    assert proc.returncode == 1 and "sparse files are not supported" in proc.stderr, proc.stderr
    assert store_state(rt) == before


@pytest.mark.parametrize("case", ["dotdot-entry", "symlink-then-write", "sparse-manifest"])
def test_the_engine_api_refuses_a_hostile_archive(wharf, rt, canary, case) -> None:
    import docker as docker_py

    path = wharf("system", "api-socket").stdout.strip()
    client = docker_py.DockerClient(base_url=f"unix://{path}", version="auto")
    build, match = HOSTILE[case]
    before = store_state(rt)
    try:
        with pytest.raises(docker_py.errors.APIError) as info:
            client.images.load(build(canary))
    finally:
        client.close()
    assert info.value.status_code == 400, info.value

    assert re.search(match, info.value.explanation), info.value.explanation
    assert store_state(rt) == before
    _assert_host_untouched(canary)


def test_a_loaded_image_cannot_reach_host_devices(wharf, rt, busybox_image, tmp_path) -> None:
    """A layer may hold device nodes (Docker's do too); the container's device rules keep
    the host's memory and disks closed behind them."""
    root_dev = os.stat(rt.paths.root).st_dev
    top = make_tar(
        [
            ("dev2", "dir"),
            ("dev2/mem", "chr", {"dev": (1, 1), "mode": 0o666}),
        ]
    )
    info = tarfile.TarInfo("dev2/disk")
    info.type, info.mode = tarfile.BLKTYPE, 0o666
    info.devmajor, info.devminor = os.major(root_dev), os.minor(root_dev)
    layer = _rebuild_with(top, info)
    image_archive = tmp_path / "devices.tar"
    saved = tmp_path / "bb.tar"
    with open(saved, "wb") as out:
        archive.save(rt.images, ["busybox"], out)
    image_archive.write_bytes(_stacked(saved, layer))
    wharf("load", "-i", str(image_archive))
    for node in ("/dev2/mem", "/dev2/disk"):
        proc = wharf("run", "--rm", "devices:1", "head", "-c", "16", node, check=False)
        assert proc.returncode != 0, f"{node} was readable: {proc.stdout!r}"
        assert "not permitted" in proc.stderr + proc.stdout, proc.stderr


def _rebuild_with(layer: bytes, extra: tarfile.TarInfo) -> bytes:
    buf = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(layer)) as src,
        tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as out,
    ):
        for member in src:
            out.addfile(member, src.extractfile(member) if member.isreg() else None)
        out.addfile(extra)
    return buf.getvalue()


def _stacked(saved: Path, layer: bytes) -> bytes:
    """Busybox's saved archive with one more layer on top, tagged ``devices:1``."""
    with tarfile.open(saved) as tar:
        (entry,) = json.load(tar.extractfile("manifest.json"))
        config = json.load(tar.extractfile(entry["Config"]))
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}
    config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(layer).hexdigest())
    config_bytes = json.dumps(config).encode()
    members["top.tar"] = layer
    members["devices.json"] = config_bytes
    members["manifest.json"] = json.dumps(
        [
            {
                "Config": "devices.json",
                "RepoTags": ["devices:1"],
                "Layers": [*entry["Layers"], "top.tar"],
            }
        ]
    ).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            tar.addfile(_info(name, data=data)[0], io.BytesIO(data))
    return buf.getvalue()


def test_a_passwd_link_in_a_loaded_image_finds_no_host_user(wharf, rt, tmp_path) -> None:
    """An image whose ``/etc/passwd`` links to a host file: ``run -u`` resolves the link
    inside the container's root, so the host's user is never found."""
    host = tmp_path / "host-etc"
    host.mkdir()
    (host / "passwd").write_text("hostonly:x:4242:4242::/:/bin/sh\n")
    saved = tmp_path / "bb.tar"
    with open(saved, "wb") as out:
        archive.save(rt.images, ["busybox"], out)
    layer = make_tar(
        [
            ("etc", "dir"),
            ("etc/passwd", "symlink", {"target": str(host / "passwd")}),
        ]
    )
    path = tmp_path / "passwd-link.tar"
    path.write_bytes(_stacked(saved, layer))
    wharf("load", "-i", str(path))
    proc = wharf("run", "--rm", "-u", "hostonly", "devices:1", "id", check=False)
    assert proc.returncode != 0 and "4242" not in proc.stdout, proc.stdout
    assert "hostonly" in proc.stderr, proc.stderr
