"""Interop with skopeo, a tool nobody here wrote: it reads what Wharf wrote, and the reverse."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import zstandard
from image_helpers import make_tar

from runtime.images import archive
from runtime.images import registry as reg

SKOPEO = ["skopeo", "--insecure-policy"]


def skopeo(*args: str) -> str:
    done = subprocess.run([*SKOPEO, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _oci_layer_files(layout: Path, tag: str) -> dict[str, bytes]:
    """Read the files of the (single) layer of an OCI layout image, as skopeo wrote it."""
    index = json.loads((layout / "index.json").read_text())
    (desc,) = [
        m
        for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag
    ]
    manifest = json.loads((layout / "blobs/sha256" / desc["digest"][7:]).read_bytes())
    files: dict[str, bytes] = {}
    for layer in manifest["layers"]:
        data = (layout / "blobs/sha256" / layer["digest"][7:]).read_bytes()
        if layer["mediaType"].endswith("+zstd"):
            data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for m in tar:
                if m.isfile():
                    files[m.name.removeprefix("./")] = tar.extractfile(m).read()
    return files


def _hand_made_archive(tmp_path: Path) -> tuple[Path, bytes]:
    """A docker-save archive written by the test itself (not by Wharf)."""
    payload = b"made by hand\n"
    layer = make_tar([("etc", "dir"), ("etc/origin", "file", {"data": payload})])
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["cat"]},
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()],
            },
        }
    )
    path = tmp_path / "hand.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in (
            ("layer.tar", layer),
            ("config.json", config.encode()),
            (
                "manifest.json",
                json.dumps(
                    [{"Config": "config.json", "RepoTags": ["hand:1"], "Layers": ["layer.tar"]}]
                ).encode(),
            ),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path, payload


def test_skopeo_reads_what_wharf_pushed(rt, busybox_image, registry, tmp_path):
    name = f"{registry.host}/interop/bb:1"
    digest = reg.push(rt.images, "busybox", name)
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{name}"))
    assert info["Digest"] == digest
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{name}"))
    assert raw["config"]["digest"] == busybox_image.id
    layout = tmp_path / "oci"
    skopeo("copy", "--src-tls-verify=false", f"docker://{name}", f"oci:{layout}:v1")
    files = _oci_layer_files(layout, "v1")
    (layer,) = rt.images.layer_paths(busybox_image)
    assert files["bin/busybox"] == (layer / "bin/busybox").read_bytes()
    assert files["etc/passwd"] == (layer / "etc/passwd").read_bytes()


def test_wharf_pulls_what_skopeo_pushed(rt, registry, tmp_path):
    source, payload = _hand_made_archive(tmp_path)
    name = f"{registry.host}/interop/hand:1"
    skopeo("copy", "--dest-tls-verify=false", f"docker-archive:{source}", f"docker://{name}")
    image = reg.pull(rt.images, name)
    (layer,) = rt.images.layer_paths(image)
    assert (layer / "etc/origin").read_bytes() == payload
    assert image.container_config["Cmd"] == ["cat"]


def test_skopeo_reads_what_wharf_saved(rt, busybox_image, tmp_path):
    saved = tmp_path / "saved.tar"
    with open(saved, "wb") as out:
        archive.save(rt.images, ["busybox:latest"], out)
    as_docker = json.loads(skopeo("inspect", f"docker-archive:{saved}"))
    assert as_docker["Layers"] == busybox_image.diff_ids
    as_oci = json.loads(skopeo("inspect", f"oci-archive:{saved}:latest"))
    assert as_oci["Layers"] == busybox_image.diff_ids
    layout = tmp_path / "from-save"
    skopeo("copy", f"docker-archive:{saved}", f"oci:{layout}:bb")
    (layer,) = rt.images.layer_paths(busybox_image)
    assert _oci_layer_files(layout, "bb")["bin/busybox"] == (layer / "bin/busybox").read_bytes()


def test_wharf_loads_what_skopeo_wrote(rt, tmp_path):
    source, payload = _hand_made_archive(tmp_path)
    layout = tmp_path / "layout"
    skopeo("copy", f"docker-archive:{source}", f"oci:{layout}:v7")
    (from_dir,) = archive.load(rt.images, layout)
    (layer,) = rt.images.layer_paths(from_dir)
    assert (layer / "etc/origin").read_bytes() == payload
    oci_tar = tmp_path / "layout.tar"
    skopeo("copy", f"docker-archive:{source}", f"oci-archive:{oci_tar}:{'sk/hand:2'}")
    (from_tar,) = archive.load(rt.images, oci_tar)
    assert from_tar.id == from_dir.id
    docker_tar = tmp_path / "sk-docker.tar"
    skopeo("copy", f"docker-archive:{source}", f"docker-archive:{docker_tar}:sk/hand:3")
    (from_docker,) = archive.load(rt.images, docker_tar)
    assert "sk/hand:3" in rt.images.get(from_docker.id).repo_tags


def test_an_oci_image_with_zstd_layers_is_pushed_as_oci(rt, registry, tmp_path):
    from image_registries import FakeRegistry

    layers = [
        (make_tar([("z", "file", {"data": b"zstd layer\n"})]), "zstd"),
        (make_tar([("g", "file", {"data": b"gzip layer\n"})]), "gzip"),
    ]
    server = FakeRegistry.for_oci(layers)
    try:
        image = reg.pull(rt.images, f"{server.host}/src/oci:1")
    finally:
        server.close()
    name = f"{registry.host}/interop/oci:1"
    reg.push(rt.images, image.id, name)
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{name}"))
    assert raw["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert [m["mediaType"].rsplit("+", 1)[-1] for m in raw["layers"]] == ["zstd", "gzip"]
    layout = tmp_path / "oci-zstd"
    skopeo("copy", "--src-tls-verify=false", f"docker://{name}", f"oci:{layout}:z")
    assert _oci_layer_files(layout, "z") == {"z": b"zstd layer\n", "g": b"gzip layer\n"}
